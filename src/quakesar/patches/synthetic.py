"""Synthetic canonical interferograms with analytic geolocation, for tests and benchmarks.

The ground position of pixel (row, col) is built with exact WGS84 geodesics (Karney 2013, via
``pyproj.Geod``): from the first pixel, ``row * azimuth_spacing`` along the track heading, then
``col * ground_range_spacing`` to the right of the track (heading + 90 deg, Sentinel-1 is
right-looking). Ascending passes (heading about -12 deg) therefore have the first line in the
south and near range in the west; descending passes (heading about -168 deg) the first line in
the north and near range in the east. :func:`pixel_latlon` is the exact model; the file stores it
on a tie-point grid (:mod:`quakesar.tiepoints`), as real products do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from quakesar.interferogram.canonical import Interferogram, base_attrs, write_interferogram
from quakesar.patches.geometry import wgs84
from quakesar.tiepoints import TiePointGrid


def pixel_latlon(rows: np.ndarray, cols: np.ndarray, lat0: float, lon0: float, heading_deg: float,
                 azimuth_spacing_m: float, range_spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (lat, lon) of fractional pixel coordinates in the synthetic geometry (see module docstring)."""
    r, c = np.broadcast_arrays(np.asarray(rows, dtype=np.float64), np.asarray(cols, dtype=np.float64))
    g = wgs84()
    n = r.size
    lon1, lat1, back = g.fwd(np.full(n, lon0), np.full(n, lat0), np.full(n, heading_deg), r.ravel() * azimuth_spacing_m)
    track_az = np.asarray(back) + 180.0  # local heading at the along-track point
    lon2, lat2, _ = g.fwd(lon1, lat1, track_az + 90.0, c.ravel() * range_spacing_m)
    return np.asarray(lat2).reshape(r.shape), np.asarray(lon2).reshape(r.shape)


def geolocation_grids(rows: int, cols: int, lat0: float, lon0: float, heading_deg: float, azimuth_spacing_m: float,
                      range_spacing_m: float, nodes: int = 21) -> tuple[TiePointGrid, TiePointGrid]:
    """Latitude and longitude tie-point grids (``nodes x nodes``) covering the raster and half a pixel beyond."""
    tr = np.linspace(-0.5, rows - 0.5, nodes)
    tc = np.linspace(-0.5, cols - 0.5, nodes)
    lat, lon = pixel_latlon(tr[:, None], tc[None, :], lat0, lon0, heading_deg, azimuth_spacing_m, range_spacing_m)
    return TiePointGrid(tr, tc, lat), TiePointGrid(tr, tc, lon, is_longitude=True)


def make_interferogram(path: str | Path, rows: int, cols: int, *, lat0: float = 35.0, lon0: float = 40.0,
                       heading_deg: float = -12.0, azimuth_spacing_m: float = 14.0, range_spacing_m: float = 15.0,
                       phase: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                       coherence: float | np.ndarray = 0.8, amplitude: float = 1.0,
                       valid: np.ndarray | None = None, truth_los_m: np.ndarray | None = None,
                       detectability_threshold_m: float = 0.01, subswath: str = "IW1", event_id: str = "ev1",
                       scene_id: str = "scene1", reference_time: str = "2020-01-01T03:00:00Z",
                       secondary_time: str = "2020-01-13T03:00:00Z", unwrapped: np.ndarray | None = None,
                       **extra_attrs: Any) -> None:
    """Write a canonical interferogram ``amplitude * exp(i phase(row, col))`` with the synthetic geometry."""
    r = np.arange(rows, dtype=np.float64)[:, None]
    c = np.arange(cols, dtype=np.float64)[None, :]
    ph = np.broadcast_to(phase(r, c) if phase is not None else np.zeros((1, 1)), (rows, cols))
    lat, lon = geolocation_grids(rows, cols, lat0, lon0, heading_deg, azimuth_spacing_m, range_spacing_m)
    attrs = base_attrs(event_id=event_id, reference_time=reference_time, secondary_time=secondary_time, track=42,
                       flight_direction="ascending" if abs(((heading_deg + 180) % 360) - 180) < 90 else "descending",
                       subswath=subswath, heading_deg=heading_deg, range_pixel_spacing_m=range_spacing_m,
                       azimuth_pixel_spacing_m=azimuth_spacing_m, looks_range=4, looks_azimuth=1,
                       backend="synthetic-test", backend_parameters={}, scene_id=scene_id)
    attrs.update(extra_attrs)
    optional: dict[str, np.ndarray] = {}
    if valid is not None:
        optional["valid"] = valid.astype(np.uint8)
    if unwrapped is not None:
        optional["unwrapped"] = unwrapped
    truth = None
    if truth_los_m is not None:
        truth = {"los_displacement": truth_los_m,
                 "attrs": {"detectability_threshold_m": detectability_threshold_m,
                           "peak_abs_los_m": float(np.nanmax(np.abs(truth_los_m)))}}
    ifg = Interferogram(i=(amplitude * np.cos(ph)).astype(np.float32), q=(amplitude * np.sin(ph)).astype(np.float32),
                        coherence=np.broadcast_to(np.asarray(coherence, dtype=np.float32), (rows, cols)).copy(),
                        latitude=lat, longitude=lon, attrs=attrs, optional=optional, truth=truth)
    write_interferogram(path, ifg)
