"""The training-data tier: event selection without leakage, realisations, shards in the patch format."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from quakesar.config import load_config
from quakesar.geodesy import haversine_km
from quakesar.patches.tiling import COLUMNS, EXTRA_COLUMNS, LEARNING_COLUMNS
from quakesar.synthetic.patchsim import PatchLayout
from quakesar.trainingset.events import Exclusion, realisations, source_events
from quakesar.trainingset.shards import merge_index, shard_records, write_shard
from quakesar.trainingset.stage import held_out_events, plan_events

ROOT = Path(__file__).resolve().parents[1]
CATALOG = {"path": str(ROOT / "config" / "catalog" / "usgs-comcat-m5-world-2013-2023.csv"), "format": "auto", "fdsn_url": None,
           "min_magnitude": 6.0, "max_magnitude": None, "magnitude_types": None, "max_depth_km": 20.0, "min_depth_km": None,
           "start": "2014-10-03", "end": None, "region": [19.0, 28.0, 65.0, 45.0], "event_types": ["earthquake"], "event_ids": [],
           "limit": None, "dedup_seconds": 16.0, "dedup_km": 10.0}
HELD = [{"id": "us7000df40", "latitude": 39.7546, "longitude": 22.1757}, {"id": "us2000bmcg", "latitude": 34.9109, "longitude": 45.9592}]


def test_held_out_events_and_their_surroundings_are_never_sources():
    excl = Exclusion.from_records(HELD)
    src, counts = source_events(CATALOG, {}, excl, 100.0, onshore_only=False)
    ids = {r["id"] for r in src}
    assert not ids & {h["id"] for h in HELD}
    for r in src:
        assert min(haversine_km(r["latitude"], r["longitude"], h["latitude"], h["longitude"]) for h in HELD) >= 100.0
    assert counts["excluded_id"] == 2 and counts["excluded_near"] >= 1
    assert counts["sources"] == len(src) == counts["catalog_selected"] - counts["excluded_id"] - counts["excluded_near"]
    mws = [r["mw"] for r in src]
    assert mws == sorted(mws, reverse=True)  # largest first


def test_onshore_filter_drops_offshore_epicentres():
    src_all, _ = source_events({**CATALOG, "region": None, "min_magnitude": 6.5}, {}, Exclusion.from_records([]), 0.0, False)
    src_land, counts = source_events({**CATALOG, "region": None, "min_magnitude": 6.5}, {}, Exclusion.from_records([]), 0.0, True)
    assert 0 < len(src_land) < len(src_all) and counts["offshore"] == len(src_all) - len(src_land)


def test_realisations_ids_jitter_cap_and_determinism():
    src = [{"id": "a", "mw": 6.0, "magnitude": 6.1, "magnitude_type": "mb"}, {"id": "b", "mw": 7.0, "magnitude": 7.0, "magnitude_type": "mww"}]
    r = realisations(src, 3, None, 0.25, seed=5)
    assert [x["id"] for x in r] == ["a-r0", "b-r0", "a-r1", "b-r1", "a-r2", "b-r2"]
    assert all(abs(x["mw"] - {"a": 6.0, "b": 7.0}[x["parent_id"]]) <= 0.25 for x in r)
    assert len({x["mw"] for x in r}) == 6 and all(x["magnitude"] == x["mw"] and x["magnitude_type"] == "mw" for x in r)
    assert r == realisations(src, 3, None, 0.25, seed=5)
    assert [x["id"] for x in realisations(src, 3, 3, 0.0, seed=5)] == ["a-r0", "b-r0", "a-r1"]
    with pytest.raises(ValueError, match="realisations"):
        realisations(src, 0, None, 0.0, 1)


def test_plan_events_from_a_split(tmp_path):
    splits = {"train": {"events": ["x"]}, "val": {"events": ["us7000df40"]}, "test": {"events": ["us2000bmcg"]}}
    (tmp_path / "splits.json").write_text(json.dumps(splits))
    pd.DataFrame([{**h, "depth_km": 10.0} for h in HELD]).to_csv(tmp_path / "events.csv", index=False)
    assert {h["id"] for h in held_out_events(tmp_path / "splits.json", tmp_path / "events.csv")} == {"us7000df40", "us2000bmcg"}
    ts = {"catalog": {}, "exclude_km": 100.0, "onshore_only": True, "realisations": 2, "max_events": 10, "magnitude_jitter": 0.1}
    doc = plan_events(CATALOG, ts, tmp_path / "splits.json", tmp_path / "events.csv", 3, tmp_path / "plan.json")
    assert len(doc["events"]) == 10 and doc["held_out_events"] == ["us2000bmcg", "us7000df40"]
    assert json.loads((tmp_path / "plan.json").read_text()) == doc
    (tmp_path / "bad.json").write_text(json.dumps({"val": {"events": ["nope"]}}))
    with pytest.raises(ValueError, match="nope"):
        held_out_events(tmp_path / "bad.json", tmp_path / "events.csv")


def test_shards_have_the_patch_format_and_survive_a_bad_event(tmp_path):
    cfg = load_config(ROOT / ".test" / "config.yaml")
    layout = PatchLayout.from_config(cfg["interferogram"], cfg["patches"])
    ts = {"catalog": {}, "exclude_km": 0.0, "onshore_only": True, "realisations": 1, "max_events": 3, "magnitude_jitter": 0.0}
    src, _ = source_events(CATALOG, {}, Exclusion.from_records([]), 0.0, True)
    recs = realisations(src, 1, 3, 0.0, 1) + [{"id": "broken", "time": "not a time", "latitude": 1.0, "longitude": 2.0,
                                                "depth_km": 5.0, "mw": 6.0, "magnitude": 6.0, "magnitude_type": "mw"}]
    assert [r["id"] for r in shard_records(recs, 1, 2)] == [recs[1]["id"], "broken"]
    s = write_shard(recs, cfg["simulate"], layout, cfg["seed"], tmp_path / "s0.h5", tmp_path / "s0.csv", tmp_path / "s0.json")
    assert s["events"] == 3 and [f["id"] for f in s["failed"]] == ["broken"] and "time" in s["failed"][0]["error"]
    df = pd.read_csv(tmp_path / "s0.csv")
    assert set((*COLUMNS, *EXTRA_COLUMNS, *LEARNING_COLUMNS, "parent_id")) <= set(df.columns)
    with h5py.File(tmp_path / "s0.h5") as f:
        assert f["patches"].shape == (len(df), 3, 16, 16) and f["patches"].dtype == np.float16
        assert json.loads(f["patches"].attrs["channels"]) == ["coherence", "i", "q"]
    assert df["h5_index"].tolist() == list(range(len(df)))
    assert df["signal"].isin([0, 1]).all() and np.isfinite(df["epi_u"]).all()
    idx = merge_index([tmp_path / "s0.csv"], tmp_path / "index.csv")
    assert (idx["split"] == "train").all() and (idx["h5_path"] == "s0.h5").all() and len(idx) == len(df)
    _ = ts
