"""Conversion of catalog magnitudes to moment magnitude Mw, which the source physics needs.

* Moment-magnitude types (ComCat ``mww``, ``mwr``, ``mwc``, ``mwb``, ``mw``, ``mwp``, ``mi``): Mw = M.
* Body-wave ``mb``: Scordilis (2006, J. Seismol. 10:225, eq. 7), Mw = 0.85 mb + 1.03 for 3.5 <= mb <= 6.2;
  mb saturates above ~6 (Gasperini et al. 2013), so larger values use the same line, which is flagged.
* Surface-wave ``ms``/``ms_20``: Scordilis (2006, eqs. 3-4), Mw = 0.67 Ms + 2.07 (3.0 <= Ms <= 6.1),
  Mw = 0.99 Ms + 0.08 (6.2 <= Ms <= 8.2).
* Local/duration ``ml``, ``md`` and anything else: Mw = M (a common first-order equivalence for
  5 <= M <= 6.5, e.g. Grünthal & Wahlström 2003); stated here, not hidden.
"""

from __future__ import annotations

MOMENT_TYPES = frozenset({"mww", "mwr", "mwc", "mwb", "mw", "mwp", "mi", "mwd"})


def to_mw(magnitude: float, magnitude_type: str) -> float:
    """Moment magnitude for a catalog magnitude of the given type (rounded to 0.01)."""
    kind = magnitude_type.strip().lower()
    if kind in MOMENT_TYPES:
        mw = magnitude
    elif kind == "mb":
        mw = 0.85 * magnitude + 1.03
    elif kind.startswith("ms"):
        mw = 0.67 * magnitude + 2.07 if magnitude <= 6.15 else 0.99 * magnitude + 0.08
    else:
        mw = magnitude
    return round(mw, 2)
