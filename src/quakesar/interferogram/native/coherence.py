"""Boxcar coherence with cumulative-sum box filters.

``gamma = |sum_W z| / sqrt(sum_W |s1|^2 * sum_W |s2|^2)`` over a ``win_az x win_rg`` window W
centred on each pixel (Touzi et al. 1999, IEEE TGRS 37:135, eq. 1; SNAP's Interferogram/Coherence
operators, window 10 range x 3 azimuth by default). ``z`` is the flattened interferogram, so the
deterministic phase does not bias the estimate.

Window sums are differences of a running sum (O(1) per pixel whatever the window; physics-reference
section 6: ``scipy.ndimage.uniform_filter`` is several times slower). Along range the running sum
is taken in float64 over a few lines at a time (the chunk stays in cache, and in float32 the
difference of two sums over 25 000 samples would lose most digits of a 10-sample window); along
azimuth the running sum is updated line by line (contiguous vector operations, no strided pass).
"""

from __future__ import annotations

import numpy as np

ROW_CHUNK = 16


def _out_dtype(x: np.ndarray) -> type:
    return np.complex64 if np.iscomplexobj(x) else np.float32


def box_sum_range(x: np.ndarray, win: int, out_dtype: type | None = None) -> np.ndarray:
    """Sum of ``x[:, j - win//2 : j - win//2 + win]`` (zeros beyond the edges), float64 running sums."""
    out_dtype = out_dtype or _out_dtype(x)
    rows, n = x.shape
    out = np.empty((rows, n), dtype=out_dtype)
    if win == 1:
        out[...] = x
        return out
    left = win // 2
    acc_dtype = np.complex128 if np.iscomplexobj(x) else np.float64
    c = np.zeros((min(ROW_CHUNK, rows), n + win), dtype=acc_dtype)
    for r0 in range(0, rows, ROW_CHUNK):
        r1 = min(r0 + ROW_CHUNK, rows)
        k = r1 - r0
        ck = c[:k]
        ck[:, left + 1:left + 1 + n] = x[r0:r1]
        np.cumsum(ck, axis=1, out=ck)
        np.subtract(ck[:, win:], ck[:, :-win], out=out[r0:r1], casting="same_kind")
        ck[:, left + 1 + n:] = 0  # cumsum filled the right padding; the next chunk expects zeros there
    return out


def box_sum_azimuth(x: np.ndarray, win: int) -> np.ndarray:
    """Sum of ``x[i - win//2 : i - win//2 + win, :]`` (zeros beyond the edges), running sum line by line."""
    rows = x.shape[0]
    out = np.empty_like(x)
    if win == 1:
        out[...] = x
        return out
    left = win // 2
    right = win - 1 - left
    acc = np.zeros(x.shape[1:], dtype=np.complex128 if np.iscomplexobj(x) else np.float64)
    for i in range(0, min(right, rows)):
        acc += x[i]
    for i in range(rows):
        j = i + right
        if j < rows:
            acc += x[j]
        j = i - left - 1
        if j >= 0:
            acc -= x[j]
        out[i] = acc
    return out


def box_sum(x: np.ndarray, win: int, axis: int) -> np.ndarray:
    """Window sum along ``axis`` (0 = azimuth, 1 = range) of a 2-D array."""
    if axis == 1:
        return box_sum_range(x, win)
    if axis == 0:
        return box_sum_azimuth(x, win)
    raise ValueError(f"box_sum: axis must be 0 or 1, got {axis}")


def box_filter(x: np.ndarray, win_az: int, win_rg: int) -> np.ndarray:
    """2-D window sum (rows ``win_az``, columns ``win_rg``)."""
    return box_sum_azimuth(box_sum_range(x, win_rg), win_az)


def coherence(z: np.ndarray, power1: np.ndarray, power2: np.ndarray, win_az: int = 3, win_rg: int = 10) -> np.ndarray:
    """Coherence magnitude (float32, 0..1; 0 where either SLC has no power in the window)."""
    num = np.abs(box_filter(z, win_az, win_rg))
    den = box_filter(power1, win_az, win_rg)
    den *= box_filter(power2, win_az, win_rg)
    np.sqrt(den, out=den)
    good = den > 0
    np.divide(num, den, out=num, where=good)
    num[~good] = 0.0
    return np.clip(num, 0.0, 1.0, out=num).astype(np.float32, copy=False)
