"""Choosing the pre/post-event Sentinel-1 pair(s) for one earthquake from ASF search results.

Rules (issue 5; docs/architecture.md "Pairs"):

* a scene is a candidate when it is IW, of the requested processing level, carries the requested
  polarisation, lies within ``window_days`` of the event, and its footprint contains the epicentre
  (or the whole circle of ``radius_km`` around it); a scene acquired while the event happened
  (start <= t <= stop) is neither before nor after it and is rejected;
* candidates are grouped by relative orbit and flight direction; a pair is a pre-event scene
  (ending before the event) and a post-event scene (starting after it) of the same group. The ESA
  frame number is recorded but not required to match: the same slice of a track is numbered
  406..412 on different dates (ASF's recorded stack of track 13), while every burst over the
  epicentre is common to both scenes whenever both footprints contain it;
* pairs are ranked by the shortest temporal baseline (whole days), then the smallest
  |perpendicular baseline| (ASF's state-vector baseline, ``asf_search.baseline.calc``), then the
  largest footprint overlap; ``pairs: one`` keeps the best pair overall, ``per_track`` the best
  pair of each (track, direction).

Every scene gets a ``kept``/``rejected`` record with its reason; no valid pair is a result
(``status: no_pair``), not an error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from quakesar.asf.coverage import contains_area, overlap_fraction
from quakesar.asf.products import Scene, iso

BaselineFn = Callable[[Scene, Scene], "float | None"]


@dataclasses.dataclass
class Pair:
    """A chosen (or evaluated) pre/post pair."""

    reference: Scene
    secondary: Scene
    temporal_baseline_days: float
    perpendicular_baseline_m: float | None
    overlap: float

    @property
    def track_key(self) -> tuple[int, str]:
        return (self.reference.track, self.reference.flight_direction)

    def rank_key(self) -> tuple[Any, ...]:
        """Sort key: whole days of temporal baseline, |B_perp| (unknown last), larger overlap, names."""
        bperp = math.inf if self.perpendicular_baseline_m is None else abs(self.perpendicular_baseline_m)
        return (round(self.temporal_baseline_days), bperp, -round(self.overlap, 6), self.reference.name, self.secondary.name)

    def summary(self) -> dict[str, Any]:
        return {
            "reference": self.reference.name,
            "secondary": self.secondary.name,
            "track": self.reference.track,
            "flight_direction": self.reference.flight_direction,
            "temporal_baseline_days": round(self.temporal_baseline_days, 4),
            "perpendicular_baseline_m": None if self.perpendicular_baseline_m is None else round(float(self.perpendicular_baseline_m), 2),
            "overlap": round(self.overlap, 4),
        }


@dataclasses.dataclass
class Selection:
    """Outcome of :func:`select_pairs`."""

    status: str  # "ok" | "no_pair"
    reason: str
    pairs: list[Pair]
    candidates: list[dict[str, Any]]
    evaluated_pairs: list[dict[str, Any]]


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 86400.0


def _scene_rejection(scene: Scene, t_event: dt.datetime, lat: float, lon: float, cfg: dict[str, Any], level: str) -> str | None:
    """Why this scene cannot be part of any pair, or None when it is a candidate."""
    window = float(cfg.get("window_days", 24))
    radius_km = float(cfg.get("radius_km", 0.0))
    pol = str(cfg.get("polarisation", "VV")).upper()
    if scene.beam_mode and scene.beam_mode.upper() != "IW":
        return f"beam mode {scene.beam_mode} is not IW"
    if scene.processing_level.upper() != level:
        return f"processing level {scene.processing_level} is not {level}"
    if pol not in scene.polarisations:
        return f"polarisation {scene.polarisation or '(none)'} lacks {pol}"
    if scene.start <= t_event <= scene.stop:
        return "acquired while the event happened (neither before nor after it)"
    gap = _days(t_event, scene.start) if scene.start > t_event else _days(scene.stop, t_event)
    if gap > window:
        return f"{gap:.1f} days from the event, outside the +-{window:g}-day window"
    if not contains_area(scene.footprint, lat, lon, radius_km):
        what = "the epicentre" if radius_km <= 0 else f"the {radius_km:g}-km circle around the epicentre"
        return f"footprint does not contain {what}"
    return None


def select_pairs(
    scenes: Sequence[Scene],
    event_time: dt.datetime,
    lat: float,
    lon: float,
    cfg: dict[str, Any],
    baseline_fn: BaselineFn | None = None,
) -> Selection:
    """Choose the pair(s) for an event at ``event_time`` (aware UTC) and (lat, lon) from ``scenes``.

    ``cfg`` is the ``search`` config section (``window_days``, ``radius_km``, ``polarisation``,
    ``pairs``, ``burst_products``); ``baseline_fn(reference, secondary)`` returns the perpendicular
    baseline in metres (None when unknown).
    """
    level = "BURST" if cfg.get("burst_products") else "SLC"
    mode = cfg.get("pairs", "one")
    if mode not in ("one", "per_track"):
        raise ValueError(f"search.pairs: expected 'one' or 'per_track', got {mode!r}")
    candidates: dict[str, dict[str, Any]] = {}
    groups: dict[tuple[int, str], dict[str, list[Scene]]] = defaultdict(lambda: {"pre": [], "post": []})
    for scene in sorted(scenes, key=lambda s: (s.start, s.name)):
        role = "pre" if scene.stop < event_time else ("post" if scene.start > event_time else "during")
        rec = {
            "scene": scene.name,
            "start": iso(scene.start),
            "stop": iso(scene.stop),
            "role": role,
            "track": scene.track,
            "flight_direction": scene.flight_direction,
            "frame": scene.frame,
            "polarisation": scene.polarisation,
            "days_from_event": round(_days(event_time, scene.start), 4),
        }
        if scene.name in candidates:
            rec.update(status="rejected", reason="duplicate record of a scene already considered")
            candidates[f"{scene.name}#dup{len(candidates)}"] = rec
            continue
        why = _scene_rejection(scene, event_time, lat, lon, cfg, level)
        if why is None:
            rec.update(status="candidate", reason="")
            groups[(scene.track, scene.flight_direction)][role].append(scene)
        else:
            rec.update(status="rejected", reason=why)
        candidates[scene.name] = rec

    evaluated: list[Pair] = []
    best_per_group: dict[tuple[int, str], Pair] = {}
    for key, g in sorted(groups.items()):
        if not g["pre"] or not g["post"]:
            missing = "post-event" if g["pre"] else "pre-event"
            for s in g["pre"] + g["post"]:
                candidates[s.name].update(status="rejected", reason=f"no {missing} acquisition on track {key[0]} {key[1]} covers the epicentre")
            continue
        group_pairs = []
        for pre in g["pre"]:
            for post in g["post"]:
                bperp = baseline_fn(pre, post) if baseline_fn is not None else None
                group_pairs.append(Pair(pre, post, _days(pre.start, post.start), bperp, overlap_fraction(pre.footprint, post.footprint)))
        group_pairs.sort(key=Pair.rank_key)
        evaluated.extend(group_pairs)
        best_per_group[key] = group_pairs[0]

    chosen = sorted(best_per_group.values(), key=Pair.rank_key)
    if mode == "one":
        chosen = chosen[:1]
    chosen_names = {}
    for p in chosen:
        chosen_names[p.reference.name] = ("reference", p)
        chosen_names[p.secondary.name] = ("secondary", p)
    for key, p in best_per_group.items():
        for s in groups[key]["pre"] + groups[key]["post"]:
            rec = candidates[s.name]
            if s.name in chosen_names:
                role, cp = chosen_names[s.name]
                rec.update(status="kept", reason=f"{role} of the chosen pair ({_describe(cp)})")
            elif p in chosen:
                rec.update(status="rejected", reason=f"valid, but the pair {p.reference.name} / {p.secondary.name} ranks higher on this track ({_describe(p)})")
            else:
                best = chosen[0]
                rec.update(status="rejected", reason=f"valid, but track {best.reference.track} {best.reference.flight_direction} has a better pair ({_describe(best)}) and search.pairs is 'one'")

    if chosen:
        status, reason = "ok", ""
    else:
        status, reason = "no_pair", _no_pair_reason(list(candidates.values()), groups, cfg)
    return Selection(status, reason, chosen, list(candidates.values()), [p.summary() for p in evaluated])


def _describe(p: Pair) -> str:
    b = "unknown" if p.perpendicular_baseline_m is None else f"{abs(p.perpendicular_baseline_m):.0f} m"
    return f"{p.temporal_baseline_days:.1f} d, |B_perp| {b}, overlap {p.overlap:.2f}"


def _no_pair_reason(cands: list[dict[str, Any]], groups: dict, cfg: dict[str, Any]) -> str:
    window = float(cfg.get("window_days", 24))
    if not cands:
        return f"ASF returned no Sentinel-1 acquisition over the epicentre within +-{window:g} days"
    if not groups:
        reasons = sorted({c["reason"] for c in cands})
        return "no acquisition qualifies: " + "; ".join(reasons)
    return "no track has both a pre-event and a post-event acquisition covering the epicentre within the window"
