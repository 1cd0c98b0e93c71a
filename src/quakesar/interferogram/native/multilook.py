"""Multilooking (complex or real block averaging) and SNAP's square-pixel look rule.

Multilooking by ``L_az x L_rg`` averages disjoint blocks starting at pixel (0, 0); trailing lines
and samples that do not fill a block are dropped, so the output has ``floor(n / L)`` pixels per axis
and output pixel ``k`` is centred on input coordinate ``k L + (L - 1) / 2`` (the mapping
:meth:`quakesar.tiepoints.TiePointGrid.resampled` takes with ``scale=L, offset=(L-1)/2``).
"""

from __future__ import annotations

import numpy as np

from quakesar.tiepoints import TiePointGrid


def multilooked_shape(shape: tuple[int, int], looks_az: int, looks_rg: int) -> tuple[int, int]:
    """Output shape of :func:`multilook` for an input of ``shape``."""
    return shape[0] // looks_az, shape[1] // looks_rg


def multilook(x: np.ndarray, looks_az: int, looks_rg: int) -> np.ndarray:
    """Mean over disjoint ``looks_az x looks_rg`` blocks (dtype kept: complex64 stays complex64).

    Accumulated as ``looks_az * looks_rg`` strided slice additions (one pass over the input in all),
    which is several times faster than a reduction over a reshaped 4-D view.
    """
    ny, nx = multilooked_shape(x.shape, looks_az, looks_rg)
    if looks_az == 1 and looks_rg == 1:
        return x[:ny, :nx].copy()
    acc_dtype = np.complex64 if np.iscomplexobj(x) else np.float32
    acc = np.zeros((ny, nx), dtype=acc_dtype)
    for a in range(looks_az):
        for b in range(looks_rg):
            acc += x[a:ny * looks_az:looks_az, b:nx * looks_rg:looks_rg]
    acc *= np.float32(1.0 / (looks_az * looks_rg))
    return acc.astype(x.dtype, copy=False)


def multilooked_grid(grid: TiePointGrid, looks_az: int, looks_rg: int) -> TiePointGrid:
    """A tie-point grid re-expressed in the pixel coordinates of the multilooked raster."""
    return grid.resampled(looks_az, looks_rg, (looks_az - 1) / 2.0, (looks_rg - 1) / 2.0)


def square_pixel_looks(range_looks: int, range_spacing_m: float, azimuth_spacing_m: float,
                       incidence_deg: float) -> int:
    """Azimuth looks giving square ground pixels for ``range_looks`` (SNAP's squarePixel rule).

    ``round(range_looks * (range_spacing / sin(theta)) / azimuth_spacing)``, at least 1
    (physics-reference section 5.2: 4 range looks -> 1 azimuth look for Sentinel-1 IW; the same rule
    gives the 10 x 3 coherence window for IW1/IW2).
    """
    ground_range = range_spacing_m / np.sin(np.radians(incidence_deg))
    return max(1, int(round(range_looks * ground_range / azimuth_spacing_m)))
