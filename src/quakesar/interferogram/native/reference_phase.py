"""Flat-earth and topographic reference phase from the scene geometry (no orbits needed).

For a perpendicular baseline ``B_perp``, slant range ``R``, incidence ``theta`` and height ``h``,
the interferometric phase of the ellipsoid and of the topography is, to first order in
``B_perp / R`` (Hanssen 2001, Radar Interferometry, eqs. 2.4.7 and 2.4.11; physics-reference
section 5.4):

    phi_ref = -(4 pi / lambda) * B_perp * ( (R - R0) / (R tan theta) + h / (R sin theta) )

``R0`` is the range origin of the flat-earth term (the near range of the scene). The sign is that of
:func:`quakesar.convention.slc_phase` (range increase -> more negative SLC phase), and the
interferogram ``z = reference * conj(secondary)`` is flattened by multiplying with
``exp(-i phi_ref)`` (SNAP's Interferogram "subtract flat-earth phase" and TopoPhaseRemoval).
The same expression is the simulator's model of these terms, so their removal is exact on
synthetic scenes.
"""

from __future__ import annotations

import numpy as np


def reference_phase(slant_range_m: np.ndarray, incidence_deg: np.ndarray, height_m: np.ndarray,
                    bperp_m: np.ndarray, wavelength_m: float, range_origin_m: float) -> np.ndarray:
    """Flat-earth + topographic phase (rad, float32) on a block; inputs broadcast to ``[rows, cols]``.

    ``slant_range_m`` is 1-D per column (or broadcastable), the others per pixel or broadcastable.
    Computed in float64 (the flat-earth term reaches thousands of radians across a subswath) and
    returned as float32 (error < 1e-3 rad at 3000 rad).
    """
    r = np.asarray(slant_range_m, dtype=np.float64)
    th = np.radians(np.asarray(incidence_deg, dtype=np.float64))
    h = np.asarray(height_m, dtype=np.float64)
    b = np.asarray(bperp_m, dtype=np.float64)
    scale = (-4.0 * np.pi / wavelength_m) * b / r
    phi = scale * ((r - range_origin_m) / np.tan(th) + h / np.sin(th))
    return phi.astype(np.float32)


def flatten(z: np.ndarray, phi_ref: np.ndarray) -> np.ndarray:
    """``z * exp(-i phi_ref)`` in place for complex64 ``z`` (cos/sin in float32: cheaper than complex exp)."""
    c = np.cos(phi_ref)
    s = np.sin(phi_ref)
    rot = np.empty(z.shape, dtype=np.complex64)
    rot.real = c
    rot.imag = -s
    z *= rot
    return z
