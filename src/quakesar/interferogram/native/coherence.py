"""Boxcar coherence with cumulative-sum box filters.

``gamma = |sum_W z| / sqrt(sum_W |s1|^2 * sum_W |s2|^2)`` over a ``win_az x win_rg`` window W
centred on each pixel (Touzi et al. 1999, IEEE TGRS 37:135, eq. 1; SNAP's Interferogram/Coherence
operators, window 10 range x 3 azimuth by default). ``z`` is the flattened interferogram, so the
deterministic phase does not bias the estimate.

The window sums are differences of a running sum along each axis (two passes, O(1) per pixel
whatever the window; physics-reference section 6: ``scipy.ndimage.uniform_filter`` is several
times slower). Running sums are accumulated in float64: in float32 the difference of two sums over
25 000 samples would lose most digits of a 10-sample window.
"""

from __future__ import annotations

import numpy as np


def box_sum(x: np.ndarray, win: int, axis: int) -> np.ndarray:
    """Sum of ``x[i - win//2 : i - win//2 + win]`` along ``axis`` (zeros beyond the edges), float64/complex128."""
    if win == 1:
        return x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    x = np.moveaxis(x, axis, 0)
    n = x.shape[0]
    left = win // 2
    dtype = np.complex128 if np.iscomplexobj(x) else np.float64
    c = np.zeros((n + win,) + x.shape[1:], dtype=dtype)
    c[left + 1:left + 1 + n] = x
    np.cumsum(c, axis=0, out=c)
    out = c[win:] - c[:-win]
    return np.moveaxis(out, 0, axis)


def box_filter(x: np.ndarray, win_az: int, win_rg: int) -> np.ndarray:
    """2-D window sum (rows ``win_az``, columns ``win_rg``) by two running-sum passes."""
    return box_sum(box_sum(x, win_rg, axis=1), win_az, axis=0)


def coherence(z: np.ndarray, power1: np.ndarray, power2: np.ndarray, win_az: int = 3, win_rg: int = 10) -> np.ndarray:
    """Coherence magnitude (float32, 0..1; 0 where either SLC has no power in the window)."""
    num = np.abs(box_filter(z, win_az, win_rg))
    den = box_filter(power1, win_az, win_rg)
    den *= box_filter(power2, win_az, win_rg)
    np.sqrt(den, out=den)
    out = np.zeros(z.shape, dtype=np.float32)
    good = den > 0
    np.divide(num, den, out=num, where=good)
    out[good] = num[good]
    return np.clip(out, 0.0, 1.0, out=out)
