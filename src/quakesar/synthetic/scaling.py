"""Earthquake source scaling: seismic moment, rupture dimensions and mean slip.

* Hanks & Kanamori (1979), J. Geophys. Res. 84(B5):2348: ``M0 = 10**(1.5 Mw + 9.1)`` N m.
* Wells & Coppersmith (1994), Bull. Seism. Soc. Am. 84(4):974, Table 2A: subsurface rupture
  length ``log10(RLD/km) = a + b Mw`` and down-dip rupture width ``log10(RW/km) = a + b Mw``
  by slip type (SS strike-slip, R reverse, N normal).
* Uniform slip from ``M0 = mu L W D`` (Aki 1966).
* Magnitude conversion: the catalog stage fills the event's ``mw``; for body-wave magnitudes it
  uses Scordilis (2006), J. Seismol. 10:225, ``Mw = 0.85 mb + 1.03`` (3.5 <= mb <= 6.2).
  :func:`event_mw` only reads that field.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

# (a, b) of log10(X / km) = a + b * Mw, Wells & Coppersmith (1994) Table 2A.
WC94_LENGTH = {"strike-slip": (-2.57, 0.62), "thrust": (-2.42, 0.58), "normal": (-1.88, 0.50)}
WC94_WIDTH = {"strike-slip": (-0.76, 0.27), "thrust": (-1.61, 0.41), "normal": (-1.14, 0.35)}


def moment_from_mw(mw: float) -> float:
    """Seismic moment M0 (N m) from moment magnitude (Hanks & Kanamori 1979)."""
    return 10.0 ** (1.5 * float(mw) + 9.1)


def mw_from_moment(m0: float) -> float:
    """Inverse of :func:`moment_from_mw`."""
    return (math.log10(m0) - 9.1) / 1.5


def rupture_length_m(mw: float, mechanism: str) -> float:
    """Subsurface rupture length (m), Wells & Coppersmith (1994) RLD by slip type."""
    a, b = _coefficients(WC94_LENGTH, mechanism)
    return 1000.0 * 10.0 ** (a + b * float(mw))


def rupture_width_m(mw: float, mechanism: str) -> float:
    """Down-dip rupture width (m), Wells & Coppersmith (1994) RW by slip type."""
    a, b = _coefficients(WC94_WIDTH, mechanism)
    return 1000.0 * 10.0 ** (a + b * float(mw))


def uniform_slip_m(mw: float, length_m: float, width_m: float, shear_modulus_pa: float) -> float:
    """Mean slip D = M0 / (mu L W) (m)."""
    return moment_from_mw(mw) / (shear_modulus_pa * length_m * width_m)


def event_mw(event: Mapping[str, Any], source: str = "event record") -> float:
    """The moment magnitude the physics uses: the record's ``mw`` field (filled by the catalog stage)."""
    value = event.get("mw")
    try:
        mw = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{source}: field 'mw' must be a number (moment magnitude), got {value!r}") from None
    if not math.isfinite(mw) or not 0.0 < mw < 10.0:
        raise ValueError(f"{source}: field 'mw' must be a finite moment magnitude in (0, 10), got {value!r}")
    return mw


def _coefficients(table: Mapping[str, tuple[float, float]], mechanism: str) -> tuple[float, float]:
    try:
        return table[mechanism]
    except KeyError:
        raise ValueError(f"unknown mechanism {mechanism!r}; expected one of {sorted(table)}") from None
