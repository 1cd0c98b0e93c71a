"""Surface displacement of a finite rectangular dislocation in an elastic half-space (Okada 1985).

Okada, Y. (1985), "Surface deformation due to shear and tensile faults in a half-space",
Bull. Seism. Soc. Am. 75(4):1135-1154, equations (25)-(30) with the Chinnery notation
``f(xi, eta) || = f(x, p) - f(x, p - W) - f(x - L, p) + f(x - L, p - W)``.

Okada's frame: x along strike, y 90 deg counter-clockwise from x (to the *left* of strike, so
the fault dips towards -y, the Aki & Richards convention), z up; the reference point is the
end of the fault's *lower* edge at depth ``d`` > 0; the fault spans ``0 <= x <= L`` and
``0 <= eta <= W`` up-dip. Slip components: ``U1`` strike-slip (positive = left-lateral),
``U2`` dip-slip (positive = reverse, hanging wall up-dip), ``U3`` tensile (opening).

Singular cases (Okada 1985 p. 1144; Okada 1992): ``cos(dip) = 0`` uses the vertical-fault
I-terms; ``R + eta = 0`` replaces ``ln(R + eta)`` by ``-ln(R - eta)`` and drops ``1/(R + eta)``;
``R + xi = 0`` drops ``1/(R + xi)``; ``R = 0`` (a corner of the fault on the surface) gives 0; ``q = 0`` sets ``atan(xi eta / (q R))`` to 0; ``xi = 0``
sets ``I5`` to 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

_TINY = 1e-12


def _safe_inv(a: np.ndarray) -> np.ndarray:
    """1/a, with 0 where a is (numerically) zero (Okada 1992's rule for the edge singularities)."""
    out = np.zeros_like(a)
    np.divide(1.0, a, out=out, where=np.abs(a) > 0.0)
    return out


def _chinnery_term(xi: np.ndarray, eta: np.ndarray, q: np.ndarray, sd: float, cd: float,
                   u1: float, u2: float, u3: float, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Okada (1985) eqs. (25)-(30): (ux, uy, uz) at one Chinnery corner, without the 1/(2 pi)."""
    r = np.sqrt(xi * xi + eta * eta + q * q)
    x = np.sqrt(xi * xi + q * q)
    ytil = eta * cd + q * sd
    dtil = eta * sd - q * cd

    r_eta = r + eta
    sing_eta = (r_eta <= _TINY * np.maximum(r, 1.0)) & (r > _TINY)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_r_eta = np.where(sing_eta, -np.log(np.where(sing_eta, r - eta, 1.0)), np.log(np.where(sing_eta, 1.0, r_eta)))
    inv_r_eta = _safe_inv(np.where(sing_eta, 0.0, r_eta))
    r_xi = r + xi
    inv_r_xi = _safe_inv(np.where(r_xi <= _TINY * np.maximum(r, 1.0), 0.0, r_xi))
    inv_r = _safe_inv(r)
    q_nonzero = np.abs(q) > _TINY * np.maximum(r, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(q_nonzero, np.arctan(xi * eta / np.where(q_nonzero, q * r, 1.0)), 0.0)

    r_dtil = r + dtil
    inv_r_dtil = _safe_inv(r_dtil)
    if cd != 0.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            den = xi * (r + x) * cd
            num = eta * (x + q * cd) + x * (r + x) * sd
            i5 = np.where(np.abs(xi) > _TINY * np.maximum(r, 1.0), m * 2.0 / cd * np.arctan(num / np.where(den == 0.0, 1.0, den)), 0.0)
            ln_r_dtil = np.log(np.where(r_dtil > 0.0, r_dtil, 1.0))
        i4 = m / cd * (ln_r_dtil - sd * ln_r_eta)
        i3 = m * (ytil / cd * inv_r_dtil - ln_r_eta) + sd / cd * i4
        i2 = -m * ln_r_eta - i3
        i1 = -m * xi / cd * inv_r_dtil - sd / cd * i5
    else:
        inv2 = inv_r_dtil * inv_r_dtil
        i1 = -0.5 * m * xi * q * inv2
        i3 = 0.5 * m * (eta * inv_r_dtil + ytil * q * inv2 - ln_r_eta)
        i2 = -m * ln_r_eta - i3
        i4 = -m * q * inv_r_dtil
        i5 = -m * xi * sd * inv_r_dtil

    ux = np.zeros_like(xi)
    uy = np.zeros_like(xi)
    uz = np.zeros_like(xi)
    if u1 != 0.0:
        a = xi * q * inv_r * inv_r_eta
        ux -= u1 * (a + theta + i1 * sd)
        uy -= u1 * (ytil * q * inv_r * inv_r_eta + q * cd * inv_r_eta + i2 * sd)
        uz -= u1 * (dtil * q * inv_r * inv_r_eta + q * sd * inv_r_eta + i4 * sd)
    if u2 != 0.0:
        ux -= u2 * (q * inv_r - i3 * sd * cd)
        uy -= u2 * (ytil * q * inv_r * inv_r_xi + cd * theta - i1 * sd * cd)
        uz -= u2 * (dtil * q * inv_r * inv_r_xi + sd * theta - i5 * sd * cd)
    if u3 != 0.0:
        b = xi * q * inv_r * inv_r_eta - theta
        ux += u3 * (q * q * inv_r * inv_r_eta - i3 * sd * sd)
        uy += u3 * (-dtil * q * inv_r * inv_r_xi - sd * b - i1 * sd * sd)
        uz += u3 * (ytil * q * inv_r * inv_r_xi + cd * b - i5 * sd * sd)
    at_corner = r <= _TINY    # observation point on a fault corner at the surface: undefined, set to 0 (Okada 1992)
    if np.any(at_corner):
        for comp in (ux, uy, uz):
            comp[at_corner] = 0.0
    return ux, uy, uz


def okada85(x: ArrayLike, y: ArrayLike, depth: float, dip_deg: float, length: float, width: float,
            u1: float = 0.0, u2: float = 0.0, u3: float = 0.0, nu: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface displacement (ux, uy, uz) in Okada's own frame (see module docstring).

    ``x``, ``y``: observation coordinates relative to the lower-edge reference point (same unit
    as ``depth``, ``length``, ``width``); displacements have the unit of the slips.
    Okada (1985) eqs. (25)-(30), Chinnery's notation, ``mu/(lambda+mu) = 1 - 2 nu``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    dip = np.radians(dip_deg)
    cd, sd = float(np.cos(dip)), float(np.sin(dip))
    if abs(cd) < _TINY:
        cd, sd = 0.0, float(np.sign(sd))
    m = 1.0 - 2.0 * nu
    p = y * cd + depth * sd
    q = y * sd - depth * cd
    ux = np.zeros(x.shape)
    uy = np.zeros(x.shape)
    uz = np.zeros(x.shape)
    for xi, eta, sign in ((x, p, 1.0), (x, p - width, -1.0), (x - length, p, -1.0), (x - length, p - width, 1.0)):
        with np.errstate(divide="ignore", invalid="ignore"):   # singular points are zeroed in _chinnery_term
            fx, fy, fz = _chinnery_term(xi, eta, q, sd, cd, u1, u2, u3, m)
        ux += sign * fx
        uy += sign * fy
        uz += sign * fz
    scale = 1.0 / (2.0 * np.pi)
    return ux * scale, uy * scale, uz * scale


def okada_enu(east: ArrayLike, north: ArrayLike, *, centroid_east: float, centroid_north: float,
              centroid_depth: float, strike_deg: float, dip_deg: float, length: float, width: float,
              strike_slip: float = 0.0, dip_slip: float = 0.0, opening: float = 0.0,
              nu: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface (east, north, up) displacement of a rectangular fault given by its centroid.

    Observation points and the centroid are in a local east/north plane (m); ``centroid_depth``
    is positive down. Strike clockwise from north, dip to the right of strike (Aki & Richards).
    The centroid is the centre of the rectangle, so Okada's lower-edge reference point lies
    ``L/2`` back along strike, ``W/2 cos(dip)`` to the right of strike and ``W/2 sin(dip)`` deeper.
    Rotation to ENU: ``uE = sin(s) ux - cos(s) uy``, ``uN = cos(s) ux + sin(s) uy``.
    """
    s = np.radians(strike_deg)
    dip = np.radians(dip_deg)
    ss, cs = np.sin(s), np.cos(s)
    de = np.asarray(east, dtype=np.float64) - centroid_east
    dn = np.asarray(north, dtype=np.float64) - centroid_north
    xs = de * ss + dn * cs            # along strike, from the centroid
    ys = -de * cs + dn * ss           # left of strike, from the centroid
    x = xs + 0.5 * length
    y = ys + 0.5 * width * np.cos(dip)
    d = centroid_depth + 0.5 * width * np.sin(dip)
    ux, uy, uz = okada85(x, y, d, dip_deg, length, width, strike_slip, dip_slip, opening, nu)
    return ss * ux - cs * uy, cs * ux + ss * uy, uz
