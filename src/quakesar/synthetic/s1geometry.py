"""Sentinel-1 IW acquisition geometry: a pair's frame and the radar grid of each subswath.

Model (documented in docs/synthetic.md):

* Spherical Earth of radius :data:`quakesar.geodesy.EARTH_RADIUS_M`; a circular orbit at
  altitude :data:`ORBIT_ALTITUDE_M` (693 km); the ground track is a straight line in the local
  azimuthal-equidistant plane centred on the epicentre (:mod:`quakesar.geodesy`), with the
  platform heading (ascending -12 deg, descending -168 deg, :mod:`quakesar.convention`).
* Frame coordinates ``(s, g)``: ``s`` along track (m from the first line), ``g`` cross-track
  ground distance from the nadir track (m), positive to the right (right-looking SAR).
* Slant range and incidence from the triangle Earth centre - satellite - ground point:
  ``R^2 = Rs^2 + Re^2 - 2 Rs Re cos(g/Re)`` and ``sin(theta) = Rs sin(g/Re) / R``.
* Subswaths IW1-IW3 by incidence range (30.6-36.7, 36.2-41.9, 41.4-46.0 deg); slant-range pixel
  2.329562 m (64.345 MHz), azimuth time interval 2.055556 ms (about 14 m on the ground),
  13,500 lines (a 9-burst slice, debursted). Reduced mode multiplies both spacings by the
  reduction R and divides the counts by R.
* Pixel geolocation is on the sphere at zero height: relief does not move pixels (no
  foreshortening or layover); the DEM enters through the interferometric phase only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from quakesar import convention
from quakesar.geodesy import EARTH_RADIUS_M, offset_to_latlon

ORBIT_ALTITUDE_M = 693_000.0
GM_EARTH = 3.986004418e14
RANGE_SAMPLING_RATE_HZ = 64.34523e6
RANGE_PIXEL_SPACING_M = convention.SPEED_OF_LIGHT_M_S / (2.0 * RANGE_SAMPLING_RATE_HZ)   # 2.329562 m
AZIMUTH_TIME_INTERVAL_S = 2.055556e-3
FULL_RESOLUTION_LINES = 13_500
# subswath: (near incidence deg, far incidence deg, processed range bandwidth Hz)
SUBSWATHS: dict[str, tuple[float, float, float]] = {
    "IW1": (30.6, 36.7, 56.5e6),
    "IW2": (36.2, 41.9, 48.3e6),
    "IW3": (41.4, 46.0, 42.8e6),
}
AZIMUTH_OVERSAMPLING = 486.5 / 327.0   # PRF / processed azimuth bandwidth (IW, approximate)

_RS = EARTH_RADIUS_M + ORBIT_ALTITUDE_M


def ground_speed_m_s() -> float:
    """Speed of the nadir point of a circular orbit at :data:`ORBIT_ALTITUDE_M` (Earth rotation ignored)."""
    return math.sqrt(GM_EARTH / _RS) * EARTH_RADIUS_M / _RS


def slant_range_from_ground(g: ArrayLike) -> np.ndarray:
    """Slant range (m) to a zero-height ground point at cross-track ground distance ``g`` (m)."""
    beta = np.asarray(g, dtype=np.float64) / EARTH_RADIUS_M
    return np.sqrt(_RS**2 + EARTH_RADIUS_M**2 - 2.0 * _RS * EARTH_RADIUS_M * np.cos(beta))


def ground_from_slant_range(r: ArrayLike) -> np.ndarray:
    """Inverse of :func:`slant_range_from_ground`."""
    r = np.asarray(r, dtype=np.float64)
    cosb = (_RS**2 + EARTH_RADIUS_M**2 - r * r) / (2.0 * _RS * EARTH_RADIUS_M)
    return EARTH_RADIUS_M * np.arccos(np.clip(cosb, -1.0, 1.0))


def incidence_from_ground(g: ArrayLike) -> np.ndarray:
    """Incidence angle (deg) at a zero-height ground point ``g`` m from the nadir track."""
    beta = np.asarray(g, dtype=np.float64) / EARTH_RADIUS_M
    r = slant_range_from_ground(g)
    return np.degrees(np.arcsin(np.clip(_RS * np.sin(beta) / r, -1.0, 1.0)))


def ground_from_incidence(theta_deg: float) -> float:
    """Cross-track ground distance (m) at which the incidence angle is ``theta_deg``."""
    t = math.radians(theta_deg)
    look = math.asin(EARTH_RADIUS_M * math.sin(t) / _RS)
    return EARTH_RADIUS_M * (t - look)


def look_angle_from_ground(g: ArrayLike) -> np.ndarray:
    """Off-nadir look angle (rad) at the satellite towards ground point ``g``."""
    beta = np.asarray(g, dtype=np.float64) / EARTH_RADIUS_M
    return np.radians(incidence_from_ground(g)) - beta


@dataclass(frozen=True)
class SubswathGrid:
    """The radar grid of one subswath: line i at along-track ``s = i * azimuth_spacing``, sample j at
    slant range ``near_range + j * range_spacing``."""

    name: str
    lines: int
    samples: int
    near_range_m: float
    range_spacing_m: float
    azimuth_spacing_m: float
    azimuth_time_interval_s: float
    range_bandwidth_hz: float

    @classmethod
    def build(cls, name: str, reduction: int = 1) -> "SubswathGrid":
        """Subswath ``name`` at full resolution (``reduction=1``) or reduced by ``reduction``."""
        if name not in SUBSWATHS:
            raise ValueError(f"unknown subswath {name!r}; expected one of {sorted(SUBSWATHS)}")
        if int(reduction) < 1:
            raise ValueError(f"simulate.reduction: expected an integer >= 1, got {reduction!r}")
        near_inc, far_inc, bw = SUBSWATHS[name]
        r0 = float(slant_range_from_ground(ground_from_incidence(near_inc)))
        r1 = float(slant_range_from_ground(ground_from_incidence(far_inc)))
        full_samples = int(round((r1 - r0) / RANGE_PIXEL_SPACING_M)) + 1
        red = int(reduction)
        dt = AZIMUTH_TIME_INTERVAL_S * red
        return cls(name=name, lines=max(2, int(round(FULL_RESOLUTION_LINES / red))),
                   samples=max(2, int(round(full_samples / red))), near_range_m=r0,
                   range_spacing_m=RANGE_PIXEL_SPACING_M * red, azimuth_spacing_m=ground_speed_m_s() * dt,
                   azimuth_time_interval_s=dt, range_bandwidth_hz=bw)

    def slant_range(self, cols: ArrayLike) -> np.ndarray:
        """Slant range (m) at (fractional) sample positions."""
        return self.near_range_m + np.asarray(cols, dtype=np.float64) * self.range_spacing_m

    def ground_range(self, cols: ArrayLike) -> np.ndarray:
        """Cross-track ground distance g (m) at (fractional) sample positions."""
        return ground_from_slant_range(self.slant_range(cols))

    def along_track(self, rows: ArrayLike) -> np.ndarray:
        """Along-track distance s (m) at (fractional) line positions."""
        return np.asarray(rows, dtype=np.float64) * self.azimuth_spacing_m

    def col_of_ground(self, g: ArrayLike) -> np.ndarray:
        """Fractional sample position of ground distance g."""
        return (slant_range_from_ground(g) - self.near_range_m) / self.range_spacing_m

    @property
    def range_oversampling(self) -> float:
        """Range sampling rate over processed bandwidth (64.345 MHz / B_r)."""
        return RANGE_SAMPLING_RATE_HZ / self.range_bandwidth_hz


@dataclass(frozen=True)
class Frame:
    """The pair's common frame: ground track, heading and the epicentre's frame coordinates."""

    epicentre_lat: float
    epicentre_lon: float
    heading_deg: float
    epicentre_s_m: float
    epicentre_g_m: float

    def east_north(self, s: ArrayLike, g: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Local east/north (m from the epicentre) of frame points (s, g); broadcasts."""
        h = math.radians(self.heading_deg)
        ds = np.asarray(s, dtype=np.float64) - self.epicentre_s_m
        dg = np.asarray(g, dtype=np.float64) - self.epicentre_g_m
        # along-track unit (sin h, cos h); right-looking cross-track unit (cos h, -sin h)
        return ds * math.sin(h) + dg * math.cos(h), ds * math.cos(h) - dg * math.sin(h)

    def latlon(self, s: ArrayLike, g: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 latitude/longitude (deg, spherical Earth) of frame points (s, g)."""
        e, n = self.east_north(s, g)
        return offset_to_latlon(self.epicentre_lat, self.epicentre_lon, e, n)
