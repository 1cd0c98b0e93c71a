"""Event selection: filters, deduplication of near-identical rows, and the demo limit.

Order of operations: explicit ids (when given, exactly those events, other filters ignored) or
the filters (event type, magnitude range and types, depth range, time window defaulting to the
Sentinel-1 era from 2014-10-03, region); then deduplication; then ``limit`` (largest magnitude
first, ties broken by time then id). The result is sorted by time then id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from quakesar.catalog.magnitudes import MOMENT_TYPES
from quakesar.catalog.model import CatalogError, Event, parse_time
from quakesar.geodesy import haversine_km

SENTINEL1_START = datetime(2014, 10, 3, tzinfo=timezone.utc)


@dataclass
class Selection:
    """The selected events and what happened to the rest (counts by reason)."""

    events: list[Event]
    dropped: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (dropped id, kept id)

    def summary(self) -> dict[str, Any]:
        return {"selected": len(self.events), "dropped": dict(self.dropped),
                "duplicates": [{"dropped": a, "kept": b} for a, b in self.duplicates]}


def region_predicate(region: Any) -> Callable[[float, float], bool]:
    """A (lat, lon) -> bool test for a bbox [min_lon, min_lat, max_lon, max_lat] (may cross 180°) or a WKT polygon."""
    if region is None:
        return lambda lat, lon: True
    if isinstance(region, (list, tuple)):
        if len(region) != 4:
            raise CatalogError(f"catalog.region: expected [min_lon, min_lat, max_lon, max_lat], got {region!r}")
        x0, y0, x1, y1 = map(float, region)
        if y0 > y1:
            raise CatalogError(f"catalog.region: min_lat {y0} > max_lat {y1}")
        if x0 <= x1:
            return lambda lat, lon: y0 <= lat <= y1 and x0 <= lon <= x1
        return lambda lat, lon: y0 <= lat <= y1 and (lon >= x0 or lon <= x1)  # crosses the antimeridian
    from shapely import wkt
    from shapely.geometry import Point
    from shapely.prepared import prep

    try:
        poly = wkt.loads(str(region))
    except Exception as exc:  # shapely raises its own error types
        raise CatalogError(f"catalog.region: {region!r} is neither a bbox nor valid WKT ({exc})") from None
    if poly.geom_type not in ("Polygon", "MultiPolygon"):
        raise CatalogError(f"catalog.region: WKT must be a POLYGON or MULTIPOLYGON in lon lat order, got {poly.geom_type}")
    prepared = prep(poly)
    return lambda lat, lon: prepared.covers(Point(lon, lat))


def _time_bound(value: str | None, key: str, default: datetime | None) -> datetime | None:
    if value is None:
        return default
    try:
        return parse_time(str(value))
    except ValueError:
        raise CatalogError(f"catalog.{key}: {value!r} is not an ISO date or time") from None


def _preference(ev: Event) -> tuple[int, str, str]:
    """Which of two duplicate rows to keep: a moment magnitude first, then the most recently updated."""
    return (1 if ev.magnitude_type in MOMENT_TYPES else 0, ev.updated, ev.id)


def deduplicate(events: list[Event], seconds: float, km: float, mag_tol: float = 0.3) -> tuple[list[Event], list[tuple[str, str]]]:
    """Drop rows that describe the same earthquake under another id (close in time, space and magnitude)."""
    if not events or seconds <= 0:
        return events, []
    order = sorted(events, key=lambda e: e.time)
    times = np.array([e.time.timestamp() for e in order])
    removed: dict[str, str] = {}
    for a in range(len(order)):
        if order[a].id in removed:
            continue
        b = a + 1
        while b < len(order) and times[b] - times[a] <= seconds:
            ea, eb = order[a], order[b]
            if (eb.id not in removed and abs(ea.magnitude - eb.magnitude) <= mag_tol
                    and haversine_km(ea.latitude, ea.longitude, eb.latitude, eb.longitude) <= km):
                keep, drop = (ea, eb) if _preference(ea) >= _preference(eb) else (eb, ea)
                removed[drop.id] = keep.id
                if drop is ea:
                    break
            b += 1
    return [e for e in events if e.id not in removed], sorted(removed.items())


def select_events(events: list[Event], cfg: dict[str, Any]) -> Selection:
    """Apply the ``catalog`` config section to ``events``; raises CatalogError for an empty selection."""
    dropped: dict[str, int] = {}

    def drop(reason: str) -> None:
        dropped[reason] = dropped.get(reason, 0) + 1

    ids = list(cfg.get("event_ids") or [])
    if ids:
        by_id = {e.id: e for e in events}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise CatalogError(f"catalog.event_ids: {', '.join(unknown)} not found in {cfg.get('path')}")
        kept = [by_id[i] for i in dict.fromkeys(ids)]
        dropped["not in catalog.event_ids"] = len(events) - len(kept)
    else:
        types = {t.lower() for t in cfg.get("event_types") or ["earthquake"]}
        mtypes = {t.lower() for t in cfg["magnitude_types"]} if cfg.get("magnitude_types") else None
        # an absent key means the Sentinel-1 era; an explicit null means no lower bound
        start = _time_bound(cfg.get("start"), "start", None) if "start" in cfg else SENTINEL1_START
        end = _time_bound(cfg.get("end"), "end", None)
        in_region = region_predicate(cfg.get("region"))
        kept = []
        for e in events:
            if e.type not in types:
                drop(f"event type {e.type}")
            elif cfg.get("min_magnitude") is not None and e.magnitude < cfg["min_magnitude"]:
                drop("magnitude below min_magnitude")
            elif cfg.get("max_magnitude") is not None and e.magnitude > cfg["max_magnitude"]:
                drop("magnitude above max_magnitude")
            elif mtypes is not None and e.magnitude_type not in mtypes:
                drop("magnitude type not accepted")
            elif cfg.get("max_depth_km") is not None and e.depth_km > cfg["max_depth_km"]:
                drop("deeper than max_depth_km")
            elif cfg.get("min_depth_km") is not None and e.depth_km < cfg["min_depth_km"]:
                drop("shallower than min_depth_km")
            elif start is not None and e.time < start:
                drop("before start")
            elif end is not None and e.time > end:
                drop("after end")
            elif not in_region(e.latitude, e.longitude):
                drop("outside region")
            else:
                kept.append(e)
    kept, dups = deduplicate(kept, float(cfg.get("dedup_seconds", 16.0)), float(cfg.get("dedup_km", 10.0)))
    if dups:
        dropped["duplicate of another event"] = len(dups)
    limit = cfg.get("limit")
    if limit is not None and len(kept) > limit:
        ranked = sorted(kept, key=lambda e: (-e.magnitude, e.time, e.id))
        dropped["beyond limit (largest first)"] = len(kept) - limit
        kept = ranked[:limit]
    if not kept:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items())) or "the catalog has no events"
        raise CatalogError(f"catalog selection is empty: no event of {cfg.get('path')} passes the filters ({reasons}). "
                           "Relax catalog.min_magnitude / max_depth_km / start / end / region / event_types.")
    kept.sort(key=lambda e: (e.time, e.id))
    return Selection(kept, dropped, dups)
