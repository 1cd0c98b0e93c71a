"""Coherence and the correlated speckle pair: the exact decorrelation model of the synthetic SLCs.

* Coherence ``gamma = gamma_temporal * gamma_geometric * gamma_thermal`` (Zebker & Villasenor 1992),
  0 over water (incoherent):
  - temporal ``(1 - rho_inf) exp(-t / tau) + rho_inf`` (Kellndorfer et al. 2022, Sci. Data 9:73);
  - geometric ``1 - |B_perp| / B_crit`` with ``B_crit = lambda B_r R tan(theta) / c``;
  - thermal ``1 / (1 + 1/SNR)`` with ``SNR = sigma0 / NESZ``.
* Pair: with ``n1, n2`` independent unit circular Gaussians, ``z1 = n1`` and
  ``z2 = gamma n1 + sqrt(1 - gamma^2) n2`` have ``E[z1 conj(z2)] = gamma`` exactly; the phase
  of an L-look average then has the Cramér-Rao standard deviation
  ``sqrt(1 - gamma^2) / (gamma sqrt(2 L))`` for high coherence (Rodriguez & Martin 1992;
  Kellndorfer et al. 2022 eq. 1).
* Speckle is band-limited like a focused SLC: white noise convolved with a Hann-windowed sinc of
  the processed bandwidth (range: 64.345 MHz over the subswath's bandwidth; azimuth: PRF over
  the processed Doppler bandwidth). The secondary's speckle is the *same* band-limited field
  sampled at positions shifted by the misregistration (Shannon interpolation with the same
  kernel), so a coregistration must find the shift.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from scipy.ndimage import correlate1d

from quakesar import convention

KERNEL_HALF_WIDTH = 3   # taps either side of the centre
NESZ_LINEAR = 10 ** (-22.0 / 10.0)  # Sentinel-1 IW noise-equivalent sigma0 (about -22 dB)


def temporal_coherence(days: float, rho_inf: np.ndarray, tau_days: np.ndarray) -> np.ndarray:
    """Exponential temporal decorrelation to a long-term floor ``rho_inf``."""
    return (1.0 - rho_inf) * np.exp(-float(days) / tau_days) + rho_inf


def critical_baseline_m(slant_range_m: np.ndarray, incidence_deg: np.ndarray, bandwidth_hz: float,
                        wavelength_m: float = convention.WAVELENGTH_M) -> np.ndarray:
    """Critical perpendicular baseline ``lambda B_r R tan(theta) / c`` (m)."""
    return wavelength_m * bandwidth_hz * slant_range_m * np.tan(np.radians(incidence_deg)) / convention.SPEED_OF_LIGHT_M_S


def geometric_coherence(bperp_m: np.ndarray, critical_m: np.ndarray) -> np.ndarray:
    """Baseline (spectral-shift) decorrelation ``max(0, 1 - |B_perp| / B_crit)``."""
    return np.clip(1.0 - np.abs(bperp_m) / critical_m, 0.0, 1.0)


def thermal_coherence(sigma0_linear: np.ndarray, nesz_linear: float = NESZ_LINEAR) -> np.ndarray:
    """Thermal-noise decorrelation ``1 / (1 + NESZ / sigma0)``."""
    return 1.0 / (1.0 + nesz_linear / np.maximum(sigma0_linear, 1e-12))


def circular_gaussian(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance circular complex Gaussian samples (complex64)."""
    z = rng.standard_normal((*shape, 2), dtype=np.float32) * np.float32(np.sqrt(0.5))
    return z.view(np.complex64)[..., 0]


def correlated_pair(gamma: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``z1 = n1``, ``z2 = gamma n1 + sqrt(1 - gamma^2) n2``: unit-power pair with coherence ``gamma``."""
    gamma = np.asarray(gamma, dtype=np.float32)
    n1 = circular_gaussian(rng, gamma.shape)
    n2 = circular_gaussian(rng, gamma.shape)
    return n1, gamma * n1 + np.sqrt(1.0 - gamma * gamma) * n2


def cramer_rao_phase_std(gamma: np.ndarray, looks: float) -> np.ndarray:
    """Cramér-Rao bound of the interferometric phase standard deviation (rad) for L looks."""
    gamma = np.asarray(gamma, dtype=np.float64)
    return np.sqrt(1.0 - gamma**2) / (gamma * np.sqrt(2.0 * looks))


def bandlimit_kernel(oversampling: float, shift: float = 0.0, half_width: int = KERNEL_HALF_WIDTH) -> np.ndarray:
    """Correlation weights ``w[t] = h(K - t - shift)`` of the band-limiting kernel, unit energy.

    ``h(x) = b sinc(b x) * hann(x)`` with ``b = 1 / oversampling``; applied with
    :func:`scipy.ndimage.correlate1d`, ``out[i] = sum_k n[k] h(i - shift - k)``, i.e. the
    band-limited field of the white noise ``n`` evaluated at position ``i - shift``.
    """
    b = 1.0 / float(oversampling)
    t = np.arange(2 * half_width + 1, dtype=np.float64)
    x = half_width - t - shift
    window = np.where(np.abs(x) < half_width + 1, 0.5 * (1.0 + np.cos(np.pi * x / (half_width + 1))), 0.0)
    w = b * np.sinc(b * x) * window
    return w / np.sqrt(np.sum(w * w))


class BandLimitedSpeckle:
    """Streams a band-limited unit-variance circular Gaussian field in line blocks.

    The white noise of block ``b`` (rows ``b*block .. (b+1)*block``, plus ``K`` extra columns
    either side) comes from ``rng_for_block(b)``, so the field does not depend on the order
    in which blocks are requested; ``field(b, row_shift, col_shift)`` evaluates the
    band-limited field at positions ``(i - row_shift, j - col_shift)``.
    """

    def __init__(self, samples: int, block: int, range_oversampling: float, azimuth_oversampling: float,
                 rng_for_block) -> None:  # noqa: ANN001 - callable(int) -> Generator
        self.samples = samples
        self.block = block
        self.k = KERNEL_HALF_WIDTH
        self.range_os = range_oversampling
        self.azimuth_os = azimuth_oversampling
        self._rng_for_block = rng_for_block
        self._cache: dict[int, np.ndarray] = {}

    def _white(self, b: int, rows: int | None = None) -> np.ndarray:
        """White noise of block ``b`` (its first ``rows`` lines; the generator fills row by row, so a
        prefix equals the same rows of the whole block)."""
        rows = self.block if rows is None else rows
        cached = self._cache.get(b)
        if cached is not None and cached.shape[0] >= rows:
            return cached
        noise = self._rng_for_block(b).standard_normal((rows, self.samples + 2 * self.k, 2), dtype=np.float32)
        noise *= np.float32(np.sqrt(0.5))
        self._cache[b] = noise
        for old in [key for key in self._cache if key < b - 2]:
            del self._cache[old]
        return noise

    def field(self, b: int, rows: int, shifts: list[tuple[float, float]],
              executor: Executor | None = None) -> list[np.ndarray]:
        """Band-limited field on the first ``rows`` lines of block ``b`` for each (row, col) shift.

        With an ``executor``, the shifts are filtered concurrently (same values as serially)."""
        k = self.k
        need = rows + k   # lines of block b (and of b + 1 beyond its end) needed below the block
        head = self._white(b - 1)[-k:] if b > 0 else self._white(b - 1, k)[:k]
        body = self._white(b, min(self.block, need))
        parts = [head, body[:min(need, self.block)]]
        if need > self.block:
            parts.append(self._white(b + 1, need - self.block)[:need - self.block])
        white = np.concatenate(parts, axis=0)

        def shifted(shift: tuple[float, float]) -> np.ndarray:
            dr, dc = shift
            wr = bandlimit_kernel(self.range_os, dc).astype(np.float32)
            wa = bandlimit_kernel(self.azimuth_os, dr).astype(np.float32)
            tmp = correlate1d(white, wr, axis=1, mode="constant")[:, k:k + self.samples]
            res = correlate1d(tmp, wa, axis=0, mode="constant")[k:k + rows]
            return np.ascontiguousarray(res).view(np.complex64)[..., 0]

        if executor is None or len(shifts) < 2:
            return [shifted(sh) for sh in shifts]
        # the filters release the GIL: the other shifts run on the executor while this thread does the first
        others = [executor.submit(shifted, sh) for sh in shifts[1:]]
        return [shifted(shifts[0]), *(f.result() for f in others)]
