"""Which synthetic training events the training-data tier simulates.

Source events are real catalog earthquakes (``trainingset.catalog``: filters merged over the main
``catalog`` section), so that magnitudes, depths and locations (hence land cover, relief and
latitude) follow the real distribution. Each source event gives ``realisations`` synthetic events
with their own pass, placement, mechanism, dates, atmosphere and noise (the event id
``{id}-r{k}`` seeds every draw, :mod:`quakesar.rng`), and optionally a moment magnitude perturbed
uniformly by up to ``magnitude_jitter`` (a smooth magnitude distribution rather than the catalog's
rounded values).

**No leakage**: a source event within ``exclude_km`` (great circle) of any validation or test event
of the dataset split, or sharing its id, is dropped, so neither the test events nor their
surroundings (aftershocks, the same fault) are ever seen in training. ``onshore_only`` keeps only
source events whose epicentre is on land (global-land-mask): offshore scenes are incoherent and teach
only the "no signal" case, which the full-pipeline training events and the far patches already cover.
``max_events`` caps the number of synthetic events (largest-first over source events, so the cap
keeps the informative large ones).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from quakesar.catalog.stage import load_selection
from quakesar.config import deep_update
from quakesar.geodesy import haversine_km
from quakesar.rng import event_rng
from quakesar.synthetic import landmask
from quakesar.synthetic.landmask import is_land


@dataclass(frozen=True)
class Exclusion:
    """Events the training data must stay away from: their ids and epicentres."""

    ids: frozenset[str]
    lat: np.ndarray
    lon: np.ndarray

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> "Exclusion":
        recs = list(records)
        return cls(frozenset(str(r["id"]) for r in recs), np.array([float(r["latitude"]) for r in recs]),
                   np.array([float(r["longitude"]) for r in recs]))

    def nearest_km(self, lat: float, lon: float) -> float:
        """Great-circle distance (km) to the nearest excluded event (inf when there is none)."""
        if self.lat.size == 0:
            return math.inf
        return float(np.min(haversine_km(lat, lon, self.lat, self.lon)))


def source_events(catalog_cfg: Mapping[str, Any], overrides: Mapping[str, Any], exclusion: Exclusion,
                  exclude_km: float, onshore_only: bool) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Catalog events usable as sources, largest first, and counts of what each rule removed."""
    cfg = deep_update(dict(catalog_cfg), dict(overrides or {}))
    cfg["limit"] = None
    sel = load_selection(cfg)
    if onshore_only and len(sel.events) > 3:
        landmask.preload()
    kept, counts = [], {"catalog_selected": len(sel.events), "excluded_id": 0, "excluded_near": 0, "offshore": 0}
    for ev in sel.events:
        rec = ev.stable_record()
        if rec["id"] in exclusion.ids:
            counts["excluded_id"] += 1
            continue
        if exclusion.nearest_km(rec["latitude"], rec["longitude"]) < exclude_km:
            counts["excluded_near"] += 1
            continue
        if onshore_only and not bool(is_land(np.array([rec["latitude"]]), np.array([(rec["longitude"] + 180.0) % 360.0 - 180.0]))[0]):
            counts["offshore"] += 1
            continue
        kept.append(rec)
    kept.sort(key=lambda r: (-float(r["mw"]), r["id"]))
    counts["sources"] = len(kept)
    return kept, counts


def realisations(sources: list[dict[str, Any]], n: int, max_events: int | None, jitter: float, seed: int) -> list[dict[str, Any]]:
    """``n`` synthetic event records per source (capped at ``max_events`` in all, largest sources first).

    Realisation ``k`` of source ``id`` has id ``{id}-r{k}``, ``parent_id`` = ``id``, and
    ``mw`` = the source's plus ``U(-jitter, jitter)`` (``magnitude`` = the new ``mw``, type ``mw``).
    """
    if n < 1:
        raise ValueError(f"trainingset.realisations: expected >= 1, got {n}")
    if jitter < 0:
        raise ValueError(f"trainingset.magnitude_jitter: expected >= 0, got {jitter}")
    cap = len(sources) * n if max_events is None else min(int(max_events), len(sources) * n)
    out: list[dict[str, Any]] = []
    for k in range(n):               # one realisation of every source before the second of any
        for src in sources:
            if len(out) >= cap:
                break
            rid = f"{src['id']}-r{k}"
            dm = float(event_rng(seed, rid, "trainingset/magnitude").uniform(-jitter, jitter)) if jitter > 0 else 0.0
            mw = round(float(src["mw"]) + dm, 3)
            out.append({**src, "id": rid, "parent_id": src["id"], "mw": mw, "magnitude": mw, "magnitude_type": "mw"})
    return out
