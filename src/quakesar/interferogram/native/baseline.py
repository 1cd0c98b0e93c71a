"""Straightforward whole-array implementations of the native chain: the reference for tests and the
baseline of ``benchmarks/native_fullres.py``.

Each function does the textbook computation on whole arrays in memory, without the block structure
or the vectorisation tricks of the production modules: numpy FFT resampling of the whole secondary,
per-pixel tie-point interpolation and a complex exponential for the reference phase,
``scipy.ndimage.uniform_filter`` for the coherence, and a Python loop over Goldstein patches that
transcribes SNAP's per-patch algorithm (same zero-padding convention as :mod:`.goldstein`, so the
outputs are comparable).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

from quakesar.interferogram.native.goldstein import triangular_weights
from quakesar.interferogram.native.multilook import multilook
from quakesar.interferogram.native.reference_phase import reference_phase
from quakesar.interferogram.native.scene import Scene


def resample_whole(sec: np.ndarray, d_rows: float, d_cols: float) -> np.ndarray:
    """``s(x + d)`` by one numpy FFT of the whole (zero-padded) array."""
    n0, n1 = sec.shape
    p = np.zeros((n0 + 64, n1 + 64), np.complex128)
    p[32:32 + n0, 32:32 + n1] = sec
    f = np.fft.fft2(p)
    f *= np.exp(2j * np.pi * d_rows * np.fft.fftfreq(p.shape[0]))[:, None]
    f *= np.exp(2j * np.pi * d_cols * np.fft.fftfreq(p.shape[1]))[None, :]
    return np.fft.ifft2(f)[32:32 + n0, 32:32 + n1].astype(np.complex64)


def coherence_uniform(z: np.ndarray, p1: np.ndarray, p2: np.ndarray, win_az: int, win_rg: int) -> np.ndarray:
    """Boxcar coherence with ``scipy.ndimage.uniform_filter`` (zero-padded edges)."""
    size = (win_az, win_rg)
    num = np.hypot(uniform_filter(z.real.astype(np.float64), size, mode="constant"),
                   uniform_filter(z.imag.astype(np.float64), size, mode="constant"))
    den = np.sqrt(uniform_filter(p1.astype(np.float64), size, mode="constant")
                  * uniform_filter(p2.astype(np.float64), size, mode="constant"))
    return np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0, 1).astype(np.float32)


def _truncated_mean_loop(mag: np.ndarray, half: int) -> np.ndarray:
    """SNAP's spectral smoothing written as its double loop (edge-truncated box mean)."""
    n0, n1 = mag.shape
    out = np.empty_like(mag)
    for r in range(n0):
        rows = mag[max(0, r - half):min(n0, r + half + 1)]
        for c in range(n1):
            out[r, c] = rows[:, max(0, c - half):min(n1, c + half + 1)].mean()
    return out


def _truncated_mean_cumsum(mag: np.ndarray, half: int) -> np.ndarray:
    """The same edge-truncated box mean from 2-D running sums (per patch, no Python pixel loop)."""
    n0, n1 = mag.shape
    c = np.zeros((n0 + 1, n1 + 1))
    c[1:, 1:] = mag.cumsum(0).cumsum(1)
    r0 = np.clip(np.arange(n0) - half, 0, n0)
    r1 = np.clip(np.arange(n0) + half + 1, 0, n0)
    k0 = np.clip(np.arange(n1) - half, 0, n1)
    k1 = np.clip(np.arange(n1) + half + 1, 0, n1)
    s = c[r1][:, k1] - c[r0][:, k1] - c[r1][:, k0] + c[r0][:, k0]
    return s / np.outer(r1 - r0, k1 - k0)


def goldstein_loop(z: np.ndarray, alpha: float = 1.0, fft_size: int = 64, window: int = 3,
                   pixel_loops: bool = True) -> np.ndarray:
    """Goldstein filter, one patch at a time (SNAP's loop), with :func:`.goldstein.goldstein`'s padding.

    ``pixel_loops``: smooth the spectrum with SNAP's literal double loop (tests) or with per-patch
    running sums (the benchmark baseline, where the literal loop would take hours).
    """
    n, step = fft_size, fft_size // 4
    rows, cols = z.shape
    pad = n - step
    hp = rows + 2 * pad
    hp += (-(hp - n)) % step
    wp = cols + 2 * pad
    wp += (-(wp - n)) % step
    zp = np.zeros((hp, wp), np.complex128)
    zp[pad:pad + rows, pad:pad + cols] = z
    acc = np.zeros_like(zp)
    w = triangular_weights(n)
    half = window // 2
    for y in range(0, hp - n + 1, step):
        for x in range(0, wp - n + 1, step):
            spec = np.fft.fft2(zp[y:y + n, x:x + n])
            mag = np.abs(spec)
            smooth = _truncated_mean_loop(mag, half) if pixel_loops else _truncated_mean_cumsum(mag, half)
            acc[y:y + n, x:x + n] += np.fft.ifft2(spec * smooth**alpha) * w
    return acc[pad:pad + rows, pad:pad + cols].astype(np.complex64)


def process_whole(scene: Scene, d_rows: float, d_cols: float, looks_az: int, looks_rg: int, coh_az: int,
                  coh_rg: int, rows: slice | None = None, cols: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Multilooked interferogram and coherence of a scene crop, everything as whole arrays."""
    rows = rows or slice(0, scene.shape[0])
    cols = cols or slice(0, scene.shape[1])
    ref = scene.reference[rows, cols]
    sec = resample_whole(scene.secondary[rows, cols], d_rows, d_cols)
    inc = scene.incidence.raster(rows, cols)
    bperp = scene.bperp.raster(rows, cols)
    phi = reference_phase(scene.slant_range_m[cols][None, :], inc, scene.height[rows, cols], bperp,
                          scene.wavelength_m, float(scene.attrs.get("near_range_m", scene.slant_range_m[0])))
    z = (ref * np.conj(sec) * np.exp(-1j * phi.astype(np.float64))).astype(np.complex64)
    coh = coherence_uniform(z, np.abs(ref) ** 2, np.abs(sec) ** 2, coh_az, coh_rg)
    return multilook(z, looks_az, looks_rg), multilook(coh, looks_az, looks_rg)
