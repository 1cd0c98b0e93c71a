"""Goldstein-Werner adaptive phase filter with the semantics of SNAP's GoldsteinPhaseFiltering.

Goldstein & Werner (1998), GRL 25:4035: each patch's spectrum ``Z`` is multiplied by
``H = (S |Z|)^alpha`` where ``S`` smooths the spectral magnitude. SNAP's operator
(s1tbx ``GoldsteinFilterOp``, parameters ``alpha`` 1.0, ``FFTSizeString`` 64, ``windowSizeString`` 3;
physics-reference section 5.5) does exactly this on ``FFT x FFT`` patches taken every ``FFT/4``
pixels (75 % overlap): ``|Z|`` is box-averaged over ``window x window`` bins of the *unshifted*
spectrum with the window truncated at the array edges, raised to ``alpha``, the product is inverse
transformed and the patches are blended with the separable triangular weight
``w(k) = 1 - |k - N/2 + 0.5| / (N/2)``.

Differences from SNAP, both at the image border only: the image is zero-padded by ``N - N/4`` on each
side so that every pixel gets all 16 overlapping patches (SNAP leaves a remainder strip at the
right/bottom edge unfiltered and zero); and the output scale (SNAP's unnormalised inverse FFT) is
irrelevant because callers keep only the phase. ``coherence_mask``: when enabled, pixels whose
coherence is below ``coherence_threshold`` are set to zero before filtering, so they do not feed the
spectra of their neighbours (they still receive a filtered value).

Vectorised: all patches of a strip of patch rows are transformed as one batched ``scipy.fft.fft2``;
the overlap-add is 16 strided additions (patch origins are a regular grid of step N/4).
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
from concurrent.futures import ThreadPoolExecutor
from numpy.lib.stride_tricks import sliding_window_view

FFT_WORKERS = 2


def triangular_weights(n: int) -> np.ndarray:
    """SNAP's separable blending weight for an ``n x n`` patch (float32)."""
    k = np.arange(n, dtype=np.float64)
    w = 1.0 - np.abs(k - n / 2 + 0.5) / (n / 2)
    return np.outer(w, w).astype(np.float32)


def _box_sum_axis(s: np.ndarray, half: int, axis: int) -> np.ndarray:
    """Edge-truncated box sum of half-width ``half`` along ``axis`` (negative) of ``s``."""
    n = s.shape[axis]

    def sl(a: int, b: int) -> tuple:
        idx = [slice(None)] * s.ndim
        idx[axis] = slice(a, b)
        return tuple(idx)

    out = s.copy()
    for d in range(1, half + 1):
        out[sl(d, n)] += s[sl(0, n - d)]
        out[sl(0, n - d)] += s[sl(d, n)]
    return out


def _box_mean_last2(s: np.ndarray, window: int) -> np.ndarray:
    """Mean of ``s`` over a ``window x window`` box in the last two axes, truncated at the edges."""
    if window <= 1:
        return s
    half = window // 2
    n = s.shape[-1]
    out = _box_sum_axis(_box_sum_axis(s, half, -1), half, -2)
    k = np.arange(n)
    cnt1 = (np.minimum(k + half, n - 1) - np.maximum(k - half, 0) + 1).astype(np.float32)
    out *= (1.0 / np.outer(cnt1, cnt1)).astype(np.float32)
    return out


def goldstein(z: np.ndarray, alpha: float = 1.0, fft_size: int = 64, window: int = 3,
              coherence: np.ndarray | None = None, coherence_threshold: float = 0.2,
              use_coherence_mask: bool = False, strip_patch_rows: int = 4, threads: int = 1) -> np.ndarray:
    """Filtered complex interferogram (complex64, arbitrary amplitude scale: use its phase).

    ``z``: complex interferogram ``[rows, cols]`` (multilooked or not). ``fft_size`` must be a
    multiple of 4. Memory: the padded image twice plus one strip of ``strip_patch_rows`` patch
    rows (``strip_patch_rows * cols/step * fft_size^2`` complex values) per thread. With
    ``threads > 1`` strips are filtered concurrently (FFTs and numpy release the GIL) and
    overlap-added by the calling thread in order, so the result does not depend on ``threads``.
    """
    n = int(fft_size)
    if n % 4 or n < 8:
        raise ValueError(f"goldstein: fft_size must be a multiple of 4 and >= 8, got {fft_size}")
    if window % 2 == 0 or window < 1:
        raise ValueError(f"goldstein: window must be odd and positive, got {window}")
    step = n // 4
    rows, cols = z.shape
    src = np.asarray(z, dtype=np.complex64)
    if use_coherence_mask:
        if coherence is None or coherence.shape != z.shape:
            raise ValueError("goldstein: use_coherence_mask needs a coherence raster of the interferogram's shape")
        src = np.where(coherence >= coherence_threshold, src, np.complex64(0))
    pad = n - step
    hp = rows + 2 * pad
    hp += (-(hp - n)) % step
    wp = cols + 2 * pad
    wp += (-(wp - n)) % step
    zp = np.zeros((hp, wp), dtype=np.complex64)
    zp[pad:pad + rows, pad:pad + cols] = src
    acc = np.zeros((hp, wp), dtype=np.complex64)
    accb = acc.reshape(hp // step, step, wp // step, step)
    view = sliding_window_view(zp, (n, n))[::step, ::step]
    ny, nx = view.shape[:2]
    weights = triangular_weights(n)
    workers = FFT_WORKERS if threads <= 1 else 1

    def filter_strip(iy0: int) -> np.ndarray:
        k = min(strip_patch_rows, ny - iy0)
        spec = sfft.fft2(np.ascontiguousarray(view[iy0:iy0 + k]), axes=(-2, -1), workers=workers, overwrite_x=True)
        h = _box_mean_last2(np.abs(spec), window)
        if alpha != 1.0:
            np.power(h, np.float32(alpha), out=h)
        spec *= h
        out = sfft.ifft2(spec, axes=(-2, -1), workers=workers, overwrite_x=True)
        out *= weights
        return out

    def overlap_add(iy0: int, out: np.ndarray) -> None:
        k = out.shape[0]
        for a in range(4):
            for b in range(4):
                sub = out[:, :, a * step:(a + 1) * step, b * step:(b + 1) * step]
                accb[iy0 + a:iy0 + a + k, :, b:b + nx, :] += sub.transpose(0, 2, 1, 3)

    starts = list(range(0, ny, strip_patch_rows))
    if threads <= 1:
        for iy0 in starts:
            overlap_add(iy0, filter_strip(iy0))
    else:
        with ThreadPoolExecutor(max_workers=threads) as ex:
            for lo in range(0, len(starts), 2 * threads):  # bounded look-ahead keeps memory per thread
                batch = starts[lo:lo + 2 * threads]
                for iy0, out in zip(batch, ex.map(filter_strip, batch)):
                    overlap_add(iy0, out)
    return acc[pad:pad + rows, pad:pad + cols].copy()
