"""The single statement of quakesar's InSAR sign and geometry conventions.

Every module that converts between phase, LOS displacement and ENU displacement calls
these functions; nothing else in the code base re-derives a sign.

* Sentinel-1 C band: carrier 5.405 GHz, wavelength ``WAVELENGTH_M`` = c / f0 = 0.05546576 m.
* An SLC pixel at slant range R carries the two-way propagation phase
  ``s = a * exp(-i * 4 * pi * R / wavelength)``.
* The interferogram is ``z = reference * conj(secondary)`` (reference = the earlier, pre-event
  acquisition), as in SNAP's Interferogram operator (master times conjugate slave).
* LOS displacement ``d`` is positive **towards the satellite** (range decrease). A range
  decrease by d between the acquisitions gives ``phi = arg(z) = -4*pi*d/wavelength``, so
  ``d = -wavelength * phi / (4*pi)``: uplift seen from either pass is positive d and a
  negative phase change. One fringe (2*pi) is wavelength/2 = 27.7 mm of LOS.
* The LOS unit vector from the ground to a right-looking satellite in local (east, north, up)
  with incidence angle theta and platform heading h (degrees clockwise from north) is
  ``[-sin(theta) cos(h), sin(theta) sin(h), cos(theta)]`` (the convention of MintPy's
  ``get_unit_vector4component_of_interest`` with the azimuth angle h - 90 deg measured from north).
  Headings: ascending about -12 deg, descending about -168 deg (-192 mod 360).
  :func:`incidence_heading_from_los` inverts it (a product's own ground-to-satellite vectors, e.g.
  LiCSAR's E/N/U files); :func:`los_from_look_angles` builds it from the elevation/orientation
  angles ASF HyP3 ships (``lv_theta``, ``lv_phi``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

SPEED_OF_LIGHT_M_S = 299_792_458.0
SENTINEL1_CARRIER_HZ = 5.405e9
WAVELENGTH_M = SPEED_OF_LIGHT_M_S / SENTINEL1_CARRIER_HZ  # 0.0554658 m
HEADING_ASCENDING_DEG = -12.0
HEADING_DESCENDING_DEG = -168.0

SIGN_CONVENTION = (
    "z = reference * conj(secondary); phase = -4*pi*d_los/wavelength; "
    "d_los positive towards the satellite (range decrease)"
)


def los_unit_vector(incidence_deg: ArrayLike, heading_deg: ArrayLike) -> np.ndarray:
    """Ground-to-satellite unit vector (east, north, up) for a right-looking SAR; last axis has length 3."""
    th = np.radians(incidence_deg)
    h = np.radians(heading_deg)
    e = -np.sin(th) * np.cos(h)
    n = np.sin(th) * np.sin(h)
    u = np.cos(th) * np.ones_like(h)
    return np.stack(np.broadcast_arrays(e, n, u), axis=-1)


def incidence_heading_from_los(east: ArrayLike, north: ArrayLike, up: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(incidence deg, heading deg in (-180, 180]) of ground-to-satellite LOS vectors; inverse of :func:`los_unit_vector`.

    The vector need not be normalised. From ``e = -sin(t) cos(h)``, ``n = sin(t) sin(h)``,
    ``u = cos(t)``: ``t = atan2(hypot(e, n), u)`` and ``h = atan2(n, -e)``.
    """
    e, n, u = (np.asarray(a, dtype=np.float64) for a in (east, north, up))
    inc = np.degrees(np.arctan2(np.hypot(e, n), u))
    heading = np.degrees(np.arctan2(n, -e))
    return inc, heading


def los_from_look_angles(elevation_rad: ArrayLike, orientation_rad: ArrayLike) -> np.ndarray:
    """Ground-to-satellite unit vectors (east, north, up) from look-vector elevation and orientation angles.

    The convention of ASF HyP3's ``lv_theta``/``lv_phi`` maps (HyP3 InSAR product guide and the
    products' README: "the look vector refers to the look direction back towards the sensor";
    theta is the angle between the horizontal surface and the look vector, positive towards a
    sensor above the surface; phi the angle between east and the look vector's horizontal
    projection, increasing towards north): ``[cos(theta) cos(phi), cos(theta) sin(phi), sin(theta)]``.
    Incidence is ``90 deg - theta``.
    """
    th = np.asarray(elevation_rad, dtype=np.float64)
    ph = np.asarray(orientation_rad, dtype=np.float64)
    return np.stack(np.broadcast_arrays(np.cos(th) * np.cos(ph), np.cos(th) * np.sin(ph), np.sin(th)), axis=-1)


def enu_to_los(east: ArrayLike, north: ArrayLike, up: ArrayLike, incidence_deg: ArrayLike, heading_deg: ArrayLike) -> np.ndarray:
    """Project an ENU displacement (m) onto the LOS; positive towards the satellite."""
    v = los_unit_vector(incidence_deg, heading_deg)
    return np.asarray(east) * v[..., 0] + np.asarray(north) * v[..., 1] + np.asarray(up) * v[..., 2]


def los_to_phase(los_m: ArrayLike, wavelength_m: float = WAVELENGTH_M) -> np.ndarray:
    """Interferometric phase (rad, unwrapped) of a LOS displacement (m, positive towards the satellite)."""
    return -4.0 * np.pi * np.asarray(los_m) / wavelength_m


def phase_to_los(phase_rad: ArrayLike, wavelength_m: float = WAVELENGTH_M) -> np.ndarray:
    """LOS displacement (m, positive towards the satellite) of an unwrapped interferometric phase (rad)."""
    return -np.asarray(phase_rad) * wavelength_m / (4.0 * np.pi)


def slc_phase(slant_range_m: ArrayLike, wavelength_m: float = WAVELENGTH_M) -> np.ndarray:
    """Two-way propagation phase of an SLC pixel at slant range R: -4*pi*R/wavelength."""
    return -4.0 * np.pi * np.asarray(slant_range_m) / wavelength_m


def wrap(phase_rad: ArrayLike) -> np.ndarray:
    """Wrap a phase to (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(phase_rad)))
