"""Which footprints (frames, subswaths, bursts) see an epicentre, and how far away the others are.

Distances are measured in the azimuthal equidistant projection centred on the epicentre
(``quakesar.geodesy.east_north_offset_m``), where the distance from the origin to any point is the
great-circle distance; a footprint's distance is the distance from the epicentre to its nearest
edge (0 inside). The search area of ``search.radius_km`` is a geodesic circle (64 vertices).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from quakesar import geodesy

_CIRCLE_VERTICES = 64


def area_of_interest(lat: float, lon: float, radius_km: float) -> BaseGeometry:
    """The epicentre (``radius_km == 0``) or a geodesic circle of ``radius_km`` around it, lon/lat."""
    if radius_km <= 0:
        return Point(lon, lat)
    bearings = np.linspace(0.0, 360.0, _CIRCLE_VERTICES, endpoint=False)
    lats, lons = geodesy.destination(lat, lon, bearings, radius_km * 1000.0)
    return Polygon(list(zip(np.asarray(lons, float), np.asarray(lats, float))))


def to_local_m(lat0: float, lon0: float, geom: BaseGeometry) -> BaseGeometry:
    """``geom`` (lon/lat) in metres east/north of (lat0, lon0), azimuthal equidistant."""

    def _xy(coords: np.ndarray) -> np.ndarray:  # (N, 2) lon, lat -> (N, 2) east, north
        e, n = geodesy.east_north_offset_m(lat0, lon0, coords[:, 1], coords[:, 0])
        return np.column_stack([e, n])

    return shapely.transform(geom, _xy)


def distance_m(lat: float, lon: float, footprint: BaseGeometry) -> float:
    """Great-circle distance (m) from the point to the footprint (0 when the point is inside)."""
    if footprint.covers(Point(lon, lat)):
        return 0.0
    return float(to_local_m(lat, lon, footprint).distance(Point(0.0, 0.0)))


def contains_area(footprint: BaseGeometry, lat: float, lon: float, radius_km: float) -> bool:
    """True when the footprint contains the epicentre, or the whole circle of ``radius_km`` around it."""
    return bool(footprint.covers(area_of_interest(lat, lon, radius_km)))


def overlap_fraction(a: BaseGeometry, b: BaseGeometry) -> float:
    """Area of the intersection over the area of the smaller footprint (0..1), in the plane of ``a``'s centre."""
    c = a.centroid
    la, lb = to_local_m(c.y, c.x, a), to_local_m(c.y, c.x, b)
    smaller = min(la.area, lb.area)
    if smaller <= 0:
        return 0.0
    return float(la.intersection(lb).area / smaller)


def near(items: Iterable[tuple[str, BaseGeometry]], lat: float, lon: float, radius_km: float) -> list[tuple[str, float]]:
    """The (key, distance_km) of each footprint within ``radius_km`` of the epicentre, nearest first."""
    out = []
    for key, geom in items:
        d_km = distance_m(lat, lon, geom) / 1000.0
        if d_km <= radius_km:
            out.append((key, d_km))
    return sorted(out, key=lambda kv: (kv[1], kv[0]))
