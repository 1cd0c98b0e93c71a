"""Coregistration of the secondary SLC onto the reference grid: offset estimation and resampling.

Offset (incoherent amplitude cross-correlation, as SNAP's Cross-Correlation/GCP selection and
ISCE's ampcor do): on a regular grid of chips, both complex chips are oversampled by 2 (zero-padding
the spectrum, so that detecting the amplitude does not alias), the mean-free amplitudes are
cross-correlated with the FFT, and the correlation peak is refined to 1/(2*upsample) pixel with a
matrix-multiply upsampled DFT around the integer peak (Guizar-Sicairos, Thurman & Fienup 2008,
Opt. Lett. 33:156). The chip offsets are combined by their median (robust to chips over water or
layover). The offset model is a constant (the synthetic source's misregistration is one constant
per scene); real TOPS data need geometric (orbit + DEM) coregistration first, which the SNAP
backend does.

Convention: the offset ``(d_row, d_col)`` says that what the reference shows at pixel ``x`` the
secondary shows at ``x + d``; the coregistered secondary is ``s'(x) = s(x + d)``. This is the
meaning of the scene attributes ``misregistration_rows/cols`` (docs/architecture.md).

Resampling is the exact band-limited (FFT phase-ramp) shift, applied to line blocks read with a halo
of ``halo`` lines, so that a full subswath is never in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np
import scipy.fft as sfft

FFT_WORKERS = 2


@dataclass(frozen=True)
class OffsetEstimate:
    """A constant offset of the secondary relative to the reference (pixels) and the chip evidence."""

    rows: float
    cols: float
    chip_offsets: np.ndarray = field(repr=False)  # [n, 2] (row, col) per accepted chip
    chip_peaks: np.ndarray = field(repr=False)  # normalised correlation peak per accepted chip

    def as_dict(self) -> dict[str, float | int]:
        spread = np.std(self.chip_offsets, axis=0) if len(self.chip_offsets) else np.array([np.nan, np.nan])
        return {"rows": float(self.rows), "cols": float(self.cols), "n_chips": int(len(self.chip_offsets)),
                "chip_std_rows": float(spread[0]), "chip_std_cols": float(spread[1])}


def read_window(ds: h5py.Dataset | np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """``ds[r0:r1, c0:c1]`` with zeros where the window leaves the array (any bounds allowed)."""
    nr, nc = ds.shape
    out = np.zeros((r1 - r0, c1 - c0), dtype=ds.dtype)
    rr0, rr1, cc0, cc1 = max(r0, 0), min(r1, nr), max(c0, 0), min(c1, nc)
    if rr1 > rr0 and cc1 > cc0:
        out[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0] = ds[rr0:rr1, cc0:cc1]
    return out


def oversample(chip: np.ndarray, factor: int = 2) -> np.ndarray:
    """Band-limited oversampling of a complex chip by zero-padding its centred 2-D spectrum."""
    n0, n1 = chip.shape
    spec = sfft.fftshift(sfft.fft2(chip.astype(np.complex128)))
    pad0, pad1 = (factor - 1) * n0, (factor - 1) * n1
    spec = np.pad(spec, ((pad0 // 2, pad0 - pad0 // 2), (pad1 // 2, pad1 - pad1 // 2)))
    return sfft.ifft2(sfft.ifftshift(spec)) * factor * factor


def _upsampled_correlation(cross_power: np.ndarray, centre: tuple[float, float], upsample: int,
                           half_width: float = 1.5) -> np.ndarray:
    """Correlation ``sum_k P[k] exp(+2 pi i k tau / N)`` on a fine grid of lags around ``centre``.

    Matrix-multiply DFT (Guizar-Sicairos et al. 2008): two small matrix products instead of an
    FFT of an ``upsample``-times larger array.
    """
    n0, n1 = cross_power.shape
    m = int(np.ceil(half_width * upsample))
    lags = np.arange(-m, m + 1) / upsample
    k0, k1 = sfft.fftfreq(n0) * n0, sfft.fftfreq(n1) * n1
    e0 = np.exp(2j * np.pi * np.outer(centre[0] + lags, k0) / n0)
    e1 = np.exp(2j * np.pi * np.outer(k1, centre[1] + lags) / n1)
    return (e0 @ cross_power @ e1).real


def chip_offset(ref_chip: np.ndarray, sec_chip: np.ndarray, oversampling: int = 2,
                upsample: int = 50) -> tuple[float, float, float]:
    """Offset ``d`` (pixels) with ``sec(x + d) = ref(x)`` from one pair of complex chips, and the normalised peak.

    Cross-correlation theorem: ``c(tau) = sum_x A(x) B(x + tau) = IFFT(conj(FFT A) * FFT B)``,
    maximal at ``tau = d``.
    """
    a = np.abs(oversample(ref_chip, oversampling))
    b = np.abs(oversample(sec_chip, oversampling))
    a -= a.mean()
    b -= b.mean()
    norm = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    if norm == 0.0:
        return np.nan, np.nan, 0.0
    cross = np.conj(sfft.fft2(a)) * sfft.fft2(b)
    corr = sfft.ifft2(cross).real
    n0, n1 = corr.shape
    i0, i1 = np.unravel_index(int(np.argmax(corr)), corr.shape)
    peak = float(corr[i0, i1] / norm)
    c0 = i0 - n0 if i0 > n0 // 2 else i0
    c1 = i1 - n1 if i1 > n1 // 2 else i1
    fine = _upsampled_correlation(cross / (n0 * n1), (float(c0), float(c1)), upsample)
    j0, j1 = np.unravel_index(int(np.argmax(fine)), fine.shape)
    m = (fine.shape[0] - 1) // 2
    d0 = c0 + (j0 - m) / upsample
    d1 = c1 + (j1 - m) / upsample
    return d0 / oversampling, d1 / oversampling, peak


def estimate_offset(reference: h5py.Dataset | np.ndarray, secondary: h5py.Dataset | np.ndarray,
                    chip: int = 128, grid: tuple[int, int] = (5, 5), min_peak: float = 0.2,
                    upsample: int = 50) -> OffsetEstimate:
    """Median chip offset over a ``grid`` of ``chip`` x ``chip`` windows spread over the image.

    Only the chips are read from disk. Chips whose normalised amplitude-correlation peak is below
    ``min_peak`` (no common speckle: water, decorrelation) are discarded; if none is left the
    offset cannot be measured and a ValueError says so.
    """
    nr, nc = reference.shape
    size_r, size_c = min(chip, nr), min(chip, nc)
    rows0 = np.linspace(0, nr - size_r, grid[0]).round().astype(int) if nr > size_r else np.array([0])
    cols0 = np.linspace(0, nc - size_c, grid[1]).round().astype(int) if nc > size_c else np.array([0])
    offsets, peaks = [], []
    for r0 in np.unique(rows0):
        # one read per band of chip lines (chunks of line-blocked files are read once, not per chip)
        band_a = np.asarray(reference[r0:r0 + size_r])
        band_b = np.asarray(secondary[r0:r0 + size_r])
        for c0 in np.unique(cols0):
            d0, d1, peak = chip_offset(band_a[:, c0:c0 + size_c], band_b[:, c0:c0 + size_c], upsample=upsample)
            if peak >= min_peak and np.isfinite(d0):
                offsets.append((d0, d1))
                peaks.append(peak)
    if not offsets:
        raise ValueError(f"coregistration failed: no chip has an amplitude correlation peak >= {min_peak} "
                         f"(scene {nr}x{nc}, chips {size_r}x{size_c})")
    off = np.asarray(offsets)
    med = np.median(off, axis=0)
    return OffsetEstimate(float(med[0]), float(med[1]), off, np.asarray(peaks))


def shift_block(block: np.ndarray, frac_rows: float, frac_cols: float, workers: int = FFT_WORKERS) -> np.ndarray:
    """``out(x) = block(x + f)`` by the exact band-limited shift (phase ramp on the 2-D spectrum).

    The block is treated as periodic; callers pad it (halo lines, zero columns) and crop.
    Signed frequencies follow ``scipy.fft.fftfreq`` (the Nyquist bin counts as negative).
    """
    if frac_rows == 0.0 and frac_cols == 0.0:
        return block.astype(np.complex64, copy=True)
    n0, n1 = block.shape
    spec = sfft.fft2(block.astype(np.complex64, copy=False), workers=workers)
    ramp0 = np.exp(2j * np.pi * frac_rows * sfft.fftfreq(n0)).astype(np.complex64)
    ramp1 = np.exp(2j * np.pi * frac_cols * sfft.fftfreq(n1)).astype(np.complex64)
    spec *= ramp0[:, None]
    spec *= ramp1[None, :]
    return sfft.ifft2(spec, workers=workers, overwrite_x=True)


def resample_rows(secondary: h5py.Dataset | np.ndarray, r0: int, r1: int, offset_rows: float,
                  offset_cols: float, halo: int = 32, workers: int = FFT_WORKERS) -> np.ndarray:
    """Coregistered secondary lines ``[r0, r1)`` on the reference grid: ``s'(r, c) = s(r + d_r, c + d_c)``.

    Integer parts of the offset move the read window; the fractional parts are an FFT shift of the
    window padded by ``halo`` lines (real neighbouring lines, zeros beyond the scene) and ``halo``
    zero columns on each side, then cropped. Pixels whose source lies outside the scene become 0.
    """
    nc = secondary.shape[1]
    ir, ic = int(np.floor(offset_rows)), int(np.floor(offset_cols))
    fr, fc = offset_rows - ir, offset_cols - ic
    n_fft_c = sfft.next_fast_len(nc + 2 * halo)
    pad_c = n_fft_c - nc
    left = pad_c // 2
    n_fft_r = sfft.next_fast_len(r1 - r0 + 2 * halo)
    top = (n_fft_r - (r1 - r0)) // 2
    window = read_window(secondary, r0 + ir - top, r0 + ir - top + n_fft_r, ic - left, ic - left + n_fft_c)
    shifted = shift_block(window, fr, fc, workers)
    return np.ascontiguousarray(shifted[top:top + (r1 - r0), left:left + nc]).astype(np.complex64, copy=False)
