"""Bilinear interpolation of a coarse 2-D grid onto a block of pixels, separably.

The same formula as :meth:`quakesar.tiepoints.TiePointGrid.at` (bilinear in the two node
coordinates, linear extrapolation beyond the outer nodes), evaluated in two 1-D passes for an
output grid whose row positions depend only on the row and column positions only on the column:
first along columns for the few grid rows the block needs, then along rows. Cost: a few
operations per output pixel.
"""

from __future__ import annotations

import numpy as np


def _index_weights(pos: np.ndarray, nodes: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Left node index and fractional weight of each position (``nodes=None``: nodes at 0..n-1)."""
    pos = np.asarray(pos, dtype=np.float64)
    if nodes is None:
        i = np.clip(np.floor(pos).astype(np.int64), 0, n - 2)
        return i, pos - i
    i = np.clip(np.searchsorted(nodes, pos, side="right") - 1, 0, n - 2)
    return i, (pos - nodes[i]) / (nodes[i + 1] - nodes[i])


def bilinear_separable(values: np.ndarray, row_pos: np.ndarray, col_pos: np.ndarray,
                       row_nodes: np.ndarray | None = None, col_nodes: np.ndarray | None = None,
                       dtype: type = np.float64) -> np.ndarray:
    """``out[a, b]`` = bilinear value of ``values`` at (``row_pos[a]``, ``col_pos[b]``).

    Positions are node indices (``row_nodes=None``) or coordinates on the node vectors
    ``row_nodes`` / ``col_nodes`` (strictly increasing, at least two each).
    """
    values = np.asarray(values)
    i, wr = _index_weights(row_pos, row_nodes, values.shape[0])
    j, wc = _index_weights(col_pos, col_nodes, values.shape[1])
    lo, hi = int(i.min()), int(i.max()) + 2
    sub = values[lo:hi].astype(dtype, copy=False)
    wc = wc.astype(dtype)
    cols = sub[:, j] * (1 - wc) + sub[:, j + 1] * wc
    wr = wr.astype(dtype)[:, None]
    return cols[i - lo] * (1 - wr) + cols[i + 1 - lo] * wr
