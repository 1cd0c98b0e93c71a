"""Whether an event's coseismic signal can be seen in one interferogram: the project-wide definition.

An event is **detectable** when the peak of its true line-of-sight displacement over the imaged
subswaths reaches ``FACTOR`` times the standard deviation of the interferogram's turbulent
atmospheric delay (the dominant noise of a single Sentinel-1 pair at these scales: Emardson et al.
2003 give 8-25 mm over 10-100 km; Hanssen 2001 ch. 4). Below that, no estimator, physical or learnt,
can locate the source from one pair, so metrics are reported for detectable events and for all events
separately (issue 12 and 13 of the project).

The ratio ``peak / sigma`` is the event's *signal-to-noise ratio*; ``FACTOR = 3`` is the usual
three-sigma detection level. Both numbers come from the synthetic source's truth attributes
(``peak_abs_los_m``, ``turbulence_std_m`` of the scene / interferogram ``truth`` group); real data has
no truth, and its verdict comes from the models (``p_detectable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

FACTOR = 3.0


@dataclass(frozen=True)
class Detectability:
    """Truth-based detectability of one event (peak over its subswaths, frame-wide turbulence)."""

    peak_abs_los_m: float
    turbulence_std_m: float

    @property
    def snr(self) -> float:
        """``peak / sigma`` (inf for a noise-free scene, NaN when either is unknown)."""
        if not (np.isfinite(self.peak_abs_los_m) and np.isfinite(self.turbulence_std_m)):
            return float("nan")
        if self.turbulence_std_m <= 0:
            return float("inf") if self.peak_abs_los_m > 0 else 0.0
        return float(self.peak_abs_los_m / self.turbulence_std_m)

    @property
    def detectable(self) -> bool:
        """``peak >= FACTOR * sigma`` (False when unknown)."""
        s = self.snr
        return bool(np.isfinite(s) and s >= FACTOR) or s == float("inf")


def is_detectable(peak_abs_los_m: float, turbulence_std_m: float) -> bool:
    """``peak_abs_los_m >= FACTOR * turbulence_std_m`` (see module docstring)."""
    return Detectability(float(peak_abs_los_m), float(turbulence_std_m)).detectable


def from_truth_attrs(attrs: Iterable[Mapping[str, Any]]) -> Detectability:
    """Combine the ``truth`` attributes of an event's interferograms or scenes (one per subswath).

    The peak is the maximum ``peak_abs_los_m`` over the subswaths; the turbulence standard deviation
    is the frame's (equal in every subswath of a synthetic pair; the largest is taken otherwise).
    """
    peaks, sigmas = [], []
    for a in attrs:
        if "peak_abs_los_m" in a:
            peaks.append(float(a["peak_abs_los_m"]))
        if "turbulence_std_m" in a:
            sigmas.append(float(a["turbulence_std_m"]))
    return Detectability(max(peaks) if peaks else float("nan"), max(sigmas) if sigmas else float("nan"))
