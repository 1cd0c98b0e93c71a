"""Event detectability when a time series is available: the measured series detection limit.

:mod:`quakesar.detectability` defines the one-interferogram verdict ``peak >= 3 sigma``. With a series,
the verdict is ``peak >= L(sigma)``, where ``L`` is the detection limit measured by
:func:`quakesar.timeseries.evaluate.evaluate` at several noise levels (90 % detected at <= 5 % false
alarms), interpolated linearly in ``log(sigma)``-``log(L)`` between the measured noise levels and held
at the end values outside them. The learning stage can call :func:`series_detectable` in place of
:func:`quakesar.detectability.is_detectable` for events whose series was evaluated.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

DEFAULT_DETECTOR = "autoencoder_map"


def _load(evaluation: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(evaluation, Mapping):
        return evaluation
    path = Path(evaluation)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the time-series evaluation JSON ({exc})") from None


def series_detection_limit(evaluation: str | Path | Mapping[str, Any], turbulence_std_m: float,
                           detector: str = DEFAULT_DETECTOR) -> float:
    """Detection limit (m of peak LOS) at ``turbulence_std_m``; ``inf`` where it was not reached."""
    rows = sorted(_load(evaluation)["detection"], key=lambda r: r["noise_std_m"])
    pts = []
    for r in rows:
        if detector not in r["detectors"]:
            raise ValueError(f"time-series evaluation: no detector {detector!r}; have {sorted(r['detectors'])}")
        lim = r["detectors"][detector]["limit_interpolated_m"]
        pts.append((float(r["noise_std_m"]), math.inf if lim is None else float(lim)))
    s = float(turbulence_std_m)
    if s <= pts[0][0]:
        return pts[0][1]
    if s >= pts[-1][0]:
        return pts[-1][1]
    for (s0, l0), (s1, l1) in zip(pts, pts[1:]):
        if s0 <= s <= s1:
            if math.isinf(l0) or math.isinf(l1):
                return math.inf
            t = (math.log(s) - math.log(s0)) / (math.log(s1) - math.log(s0))
            return math.exp(math.log(l0) + t * (math.log(l1) - math.log(l0)))
    return math.inf


def series_detectable(peak_abs_los_m: float, turbulence_std_m: float, evaluation: str | Path | Mapping[str, Any],
                      detector: str = DEFAULT_DETECTOR) -> bool:
    """``peak >= L(sigma)`` with the measured series detection limit (module docstring)."""
    return float(peak_abs_los_m) >= series_detection_limit(evaluation, turbulence_std_m, detector)
