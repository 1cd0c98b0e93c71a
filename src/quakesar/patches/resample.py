"""Anti-aliased area-average resampling of a window of pixels to a smaller patch.

Each output pixel is the mean of the input pixels it covers, weighted by the exact area of
their overlap with it (box-filter downsampling, "area" / pixel-mixing resampling; e.g. Gonzalez
& Woods, *Digital Image Processing*, ch. 2.4, and OpenCV ``INTER_AREA``). When the window is not
a multiple of the output size, a source pixel that straddles two output pixels contributes to
both in proportion to the overlapping lengths, so the weights of every output pixel sum to one.

Because the operator is separable, ``out = A_r @ X @ A_c^T`` with the sparse matrices
``A[k, j] = |[j, j+1) ∩ [k f, (k+1) f)| / f`` (``f = window / size``). Its frequency response is
the box-filter ``sinc(f * nu)`` (``nu`` in cycles per source pixel; for an integer factor the
discrete Dirichlet kernel ``sin(pi f nu) / (f sin(pi nu))``): a fringe at the new Nyquist
frequency keeps 64 % of its amplitude, a fringe at ``1 / f`` (twice the new Nyquist) is
cancelled, and higher frequencies stay below the ~22 % first side lobe, i.e. they are
attenuated rather than folded back at full amplitude as plain decimation would do.

The complex interferogram is averaged as a complex number (``i`` and ``q`` separately, the
complex multilook), never its phase. Invalid pixels are excluded by normalised averaging
(Knutsson & Westin 1993, "normalized convolution"): ``A(x m) / A(m)`` with mask ``m``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp


@lru_cache(maxsize=32)
def area_weights(n_in: int, n_out: int) -> sp.csr_matrix:
    """Sparse ``[n_out, n_in]`` matrix of exact area weights (rows sum to 1).

    Output pixel ``k`` covers the source interval ``[k f, (k+1) f)`` with ``f = n_in / n_out``;
    source pixel ``j`` covers ``[j, j+1)``; the weight is the overlap length divided by ``f``.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"area_weights: sizes must be positive, got n_in={n_in}, n_out={n_out}")
    if n_out > n_in:
        raise ValueError(f"area_weights: output size {n_out} larger than input {n_in} (upsampling is not area averaging)")
    f = n_in / n_out
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    edges = np.arange(n_out + 1) * f
    for k in range(n_out):
        lo, hi = edges[k], edges[k + 1]
        j = np.arange(int(np.floor(lo)), min(int(np.ceil(hi)), n_in))
        overlap = np.minimum(j + 1, hi) - np.maximum(j, lo)
        keep = overlap > 1e-12
        rows.append(np.full(int(keep.sum()), k))
        cols.append(j[keep])
        vals.append(overlap[keep] / f)
    mat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_out, n_in))
    return mat


@lru_cache(maxsize=32)
def _block_weights(n_in: int, n_out: int, starts: tuple[int, ...], total: int) -> sp.csr_matrix:
    """Column operator ``[total, len(starts) * n_out]`` that area-averages every window ``[s, s + n_in)``."""
    a = area_weights(n_in, n_out).tocoo()
    rows, cols, vals = [], [], []
    for b, s in enumerate(starts):
        rows.append(a.col + s)
        cols.append(a.row + b * n_out)
        vals.append(a.data)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(total, len(starts) * n_out))


def _typed(mat: sp.csr_matrix, dtype: type) -> sp.csr_matrix:
    """``mat`` with its weights in ``dtype`` (float64 matrices are returned as they are)."""
    return mat if dtype == np.float64 else mat.astype(dtype)


def area_average_strip(strip: np.ndarray, col_starts: list[int] | tuple[int, ...], window: int, size: int) -> np.ndarray:
    """Area-average every ``window x window`` block of a ``[window, cols]`` strip to ``size x size``.

    ``col_starts`` are the first columns of the windows. Returns ``[len(col_starts), size, size]``,
    float32 for a float32 strip (weights rounded to float32, relative error ~1e-7; no float64 copy
    of the strip), float64 otherwise.
    """
    if strip.shape[0] != window:
        raise ValueError(f"strip has {strip.shape[0]} rows, expected the window height {window}")
    dtype = np.float32 if strip.dtype == np.float32 else np.float64
    a_r = _typed(area_weights(window, size), dtype)
    a_c = _typed(_block_weights(window, size, tuple(int(s) for s in col_starts), strip.shape[1]), dtype)
    reduced = a_r @ np.asarray(strip, dtype=dtype)  # [size, cols]
    out = np.asarray(reduced @ a_c)  # [size, n * size]  (dense @ sparse)
    return out.reshape(size, len(col_starts), size).transpose(1, 0, 2)


def area_average(block: np.ndarray, size: int) -> np.ndarray:
    """Area-average one square ``[window, window]`` block to ``[size, size]`` (see module docstring)."""
    if block.ndim != 2 or block.shape[0] != block.shape[1]:
        raise ValueError(f"area_average expects a square 2-D block, got shape {block.shape}")
    return area_average_strip(block, [0], block.shape[0], size)[0]


def masked_area_average_strip(strips: dict[str, np.ndarray], mask: np.ndarray | None, col_starts: list[int],
                              window: int, size: int) -> dict[str, np.ndarray]:
    """Normalised area average of several co-registered strips with a validity mask.

    Each output is ``A(x * m) / A(m)``; output pixels with no valid source pixel are 0.
    With ``mask=None`` every pixel counts and this is the plain area average.
    """
    if mask is None:
        return {name: area_average_strip(x, col_starts, window, size) for name, x in strips.items()}
    m = mask.astype(np.float32)
    weight = area_average_strip(m, col_starts, window, size)
    safe = np.where(weight > 0, weight, 1.0)
    out = {}
    for name, x in strips.items():
        num = area_average_strip(np.where(mask, x, 0.0).astype(np.float32, copy=False), col_starts, window, size)
        out[name] = np.where(weight > 0, num / safe, 0.0)
    return out
