"""The training-data tier's three steps: choose the events, simulate a shard, merge the shard index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from quakesar.atomic import dumps_json, write_if_changed, write_text
from quakesar.config import deep_update
from quakesar.synthetic.patchsim import PatchLayout
from quakesar.trainingset.events import Exclusion, realisations, source_events
from quakesar.trainingset.shards import merge_index, shard_records, summary_text, write_shard


def held_out_events(splits_json: Path, events_csv: Path) -> list[dict[str, Any]]:
    """Records (id, latitude, longitude) of the validation and test events of a dataset split."""
    try:
        splits = json.loads(Path(splits_json).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{splits_json}: cannot read the dataset split ({exc})") from exc
    ids = {str(e) for s in ("val", "test") for e in splits.get(s, {}).get("events", [])}
    cat = pd.read_csv(events_csv, dtype={"id": str})
    for col in ("id", "latitude", "longitude"):
        if col not in cat.columns:
            raise ValueError(f"{events_csv}: column {col!r} missing (expected the catalog stage's events.csv)")
    rows = cat[cat["id"].isin(ids)]
    missing = ids - set(rows["id"])
    if missing:
        raise ValueError(f"{splits_json}: held-out events {sorted(missing)[:5]} are not in {events_csv}")
    return rows[["id", "latitude", "longitude"]].to_dict("records")


def plan_events(catalog_cfg: Mapping[str, Any], ts_cfg: Mapping[str, Any], splits_json: Path, events_csv: Path, seed: int,
                out_json: Path) -> dict[str, Any]:
    """Write ``out_json``: the synthetic training events and what the selection removed (see :mod:`.events`)."""
    held = held_out_events(splits_json, events_csv)
    excl = Exclusion.from_records(held)
    sources, counts = source_events(catalog_cfg, ts_cfg.get("catalog") or {}, excl, float(ts_cfg["exclude_km"]),
                                    bool(ts_cfg["onshore_only"]))
    records = realisations(sources, int(ts_cfg["realisations"]), ts_cfg.get("max_events"), float(ts_cfg["magnitude_jitter"]), seed)
    doc = {"held_out_events": sorted(r["id"] for r in held), "exclude_km": float(ts_cfg["exclude_km"]), **counts,
           "realisations": int(ts_cfg["realisations"]), "events": records}
    write_if_changed(Path(out_json), dumps_json(doc))
    return doc


def simulation_config(simulate: Mapping[str, Any], ts_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``simulate`` section with the tier's ``simulate`` overrides (e.g. its own placement)."""
    return deep_update(dict(simulate), dict(ts_cfg.get("simulate") or {}))


def run_shard(events_json: Path, shard: int, n_shards: int, simulate: Mapping[str, Any], interferogram: Mapping[str, Any],
              patches: Mapping[str, Any], ts_cfg: Mapping[str, Any], seed: int, out_h5: Path, out_csv: Path,
              out_summary: Path) -> dict[str, Any]:
    """Simulate shard ``shard`` of the planned events into its three files."""
    try:
        records = json.loads(Path(events_json).read_text())["events"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{events_json}: cannot read the training events ({exc})") from exc
    layout = PatchLayout.from_config(interferogram, patches)
    return write_shard(shard_records(records, shard, n_shards), simulation_config(simulate, ts_cfg), layout, seed,
                       out_h5, out_csv, out_summary, supersample=int(ts_cfg["supersample"]), dtype=str(ts_cfg["dtype"]))


def run_index(shard_csvs: list[Path], shard_summaries: list[Path], out_csv: Path, out_summary: Path) -> None:
    """Merge the shard CSVs into ``out_csv`` and their summaries into ``out_summary``."""
    index = merge_index(shard_csvs, out_csv)
    summaries = [json.loads(Path(p).read_text()) for p in shard_summaries]
    doc = json.loads(summary_text(summaries))
    doc.update({"rows": int(len(index)), "events_with_signal": int(index.loc[index["signal"] == 1, "event_id"].nunique())
                if len(index) else 0})
    write_text(Path(out_summary), dumps_json(doc))
