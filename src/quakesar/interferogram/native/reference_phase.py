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
    Written as ``K B / (R sin theta) * ((R - R0) cos theta + h)`` with ``K = -4 pi / lambda``; the
    per-column factors are formed in float64, the per-pixel work in float32 (relative error ~1e-7:
    < 1e-3 rad at the ~3000 rad the flat-earth term reaches across a subswath).
    """
    r = np.asarray(slant_range_m, dtype=np.float64)
    k_over_r = ((-4.0 * np.pi / wavelength_m) / r).astype(np.float32)
    dr = (r - range_origin_m).astype(np.float32)
    th = np.radians(np.asarray(incidence_deg, dtype=np.float32))
    h = np.asarray(height_m, dtype=np.float32)
    b = np.asarray(bperp_m, dtype=np.float32)
    shape = np.broadcast_shapes(th.shape, h.shape, b.shape, k_over_r.shape)
    sin_t = np.sin(th)
    phi = np.empty(shape, dtype=np.float32)
    np.multiply(np.cos(th), dr, out=phi)
    phi += h
    phi /= sin_t
    phi *= b
    phi *= k_over_r
    return phi


def flatten(z: np.ndarray, phi_ref: np.ndarray) -> np.ndarray:
    """``z * exp(-i phi_ref)`` in place for complex64 ``z`` (cos/sin in float32: cheaper than complex exp)."""
    c = np.cos(phi_ref)
    s = np.sin(phi_ref)
    rot = np.empty(z.shape, dtype=np.complex64)
    rot.real = c
    rot.imag = -s
    z *= rot
    return z
