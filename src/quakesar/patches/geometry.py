"""Patch geometry on the WGS84 ellipsoid: footprint corners, centre, and epicentre offsets.

Pixel coordinates follow :mod:`quakesar.tiepoints`: pixel centres at integer (row, col), so a
window of rows ``[row0, row1)`` and columns ``[col0, col1)`` covers the area from
``(row0 - 0.5, col0 - 0.5)`` to ``(row1 - 0.5, col1 - 0.5)``. Its corners are those outer
pixel-edge points (the footprint of the window, not the centres of its edge pixels), named
``rc`` with r = 0 first line / 1 last line and c = 0 first sample / 1 last sample; its centre is
``((row0 + row1 - 1) / 2, (col0 + col1 - 1) / 2)``. All are interpolated from the
interferogram's own tie-point grids.

Distance, bearing and east/north offsets from the patch centre to the epicentre are WGS84
geodesics (:func:`quakesar.geodesy.geodesic_polar`): the spherical formulas differ by up to
~0.5 %, more than the 0.1 % a patch's metadata must meet.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from quakesar.geodesy import geodesic_polar, polar_to_latlon, wgs84  # noqa: F401  (re-exported)
from quakesar.tiepoints import TiePointGrid

CORNERS = ("00", "01", "11", "10")  # clockwise in image coordinates, early-azimuth near-range first


def window_geometry(lat: TiePointGrid, lon: TiePointGrid, row0: ArrayLike, col0: ArrayLike,
                    row1: ArrayLike, col1: ArrayLike) -> dict[str, np.ndarray]:
    """Corner and centre lat/lon of windows ``[row0, row1) x [col0, col1)`` (see module docstring).

    Returns ``corner_{rc}_lat``/``_lon`` for rc in 00, 01, 11, 10 and ``center_lat``/``center_lon``.
    """
    r0 = np.asarray(row0, dtype=np.float64) - 0.5
    c0 = np.asarray(col0, dtype=np.float64) - 0.5
    r1 = np.asarray(row1, dtype=np.float64) - 0.5
    c1 = np.asarray(col1, dtype=np.float64) - 0.5
    out: dict[str, np.ndarray] = {}
    for name, (rr, cc) in {"00": (r0, c0), "01": (r0, c1), "11": (r1, c1), "10": (r1, c0)}.items():
        out[f"corner_{name}_lat"] = lat.at(rr, cc)
        out[f"corner_{name}_lon"] = lon.at(rr, cc)
    rc, cc = (r0 + r1) / 2.0, (c0 + c1) / 2.0
    out["center_lat"] = lat.at(rc, cc)
    out["center_lon"] = lon.at(rc, cc)
    return out


def footprint_bbox(lat: TiePointGrid, lon: TiePointGrid, rows: int, cols: int) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a raster's outline sampled along its four edges.

    Longitudes are unwrapped along the outline, so a footprint across the antimeridian has
    ``west > east`` after wrapping to [-180, 180).
    """
    n = 64
    r = np.concatenate([np.full(n, -0.5), np.linspace(-0.5, rows - 0.5, n), np.full(n, rows - 0.5),
                        np.linspace(rows - 0.5, -0.5, n)])
    c = np.concatenate([np.linspace(-0.5, cols - 0.5, n), np.full(n, cols - 0.5), np.linspace(cols - 0.5, -0.5, n),
                        np.full(n, -0.5)])
    la = lat.at(r, c)
    lo = np.degrees(np.unwrap(np.radians(lon.at(r, c))))
    west, east = (float(v + 180.0) % 360.0 - 180.0 for v in (lo.min(), lo.max()))
    return float(la.min()), float(la.max()), west, east


def axis_vectors(corners: dict[str, tuple[np.ndarray, np.ndarray]], center_lat: np.ndarray,
                 center_lon: np.ndarray) -> np.ndarray:
    """``B = [a_c a_r]`` (``[..., 2, 2]``, km, rows east/north) from corner lat/lon, about the patch centre.

    ``a_c = (c01 + c11 - c00 - c10) / 4`` is the half-width vector along increasing columns and
    ``a_r = (c10 + c11 - c00 - c01) / 4`` along increasing rows, the corners expressed as geodesic
    east/north offsets from the centre: locally the footprint is the affine map ``(u, v) -> u a_c + v a_r``
    of normalised image coordinates, which is skewed (not orthogonal) in radar geometry."""
    en = {}
    for k in CORNERS:
        lat, lon = corners[k]
        _, _, e, n = geodesic_polar(center_lat, center_lon, lat, lon)
        en[k] = np.stack([e, n], axis=-1) / 1000.0
    a_c = (en["01"] + en["11"] - en["00"] - en["10"]) / 4.0
    a_r = (en["10"] + en["11"] - en["00"] - en["01"]) / 4.0
    return np.stack([a_c, a_r], axis=-1)
