"""Small learning datasets built with the project's own physics (the patch-level simulator), for tests.

``build(root, n_train, n_eval)`` writes ``root/dataset/index.csv`` (validation and test events,
``origin = pipeline`` in the learning stage's eyes) and ``root/trainingset/index.csv`` (training events)
from real catalog events of the bundled catalog, in the exact file formats the stages write. The
configuration is the tiny CI one (reduction 32, 62 -> 16 px patches), with weak turbulence so that most
events are detectable and a handful of epochs can show learning.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from quakesar.config import load_config
from quakesar.synthetic.patchsim import PatchLayout
from quakesar.trainingset.events import Exclusion, realisations, source_events
from quakesar.trainingset.shards import merge_index, write_shard

ROOT = Path(__file__).resolve().parents[1]


def config() -> dict:
    cfg = load_config(ROOT / ".test" / "config.yaml")
    cfg["simulate"] = {**cfg["simulate"], "turbulence_std_m": [0.002, 0.006], "placement": "inside"}
    return cfg


def build(root: Path, n_train: int = 90, n_eval: int = 24, seed: int = 3) -> tuple[Path, Path]:
    """(dataset dir, trainingset index) of a fresh learning dataset under ``root``."""
    cfg = config()
    layout = PatchLayout.from_config(cfg["interferogram"], cfg["patches"])
    cat = {**cfg["catalog"], "event_ids": [], "region": None, "min_magnitude": 6.0, "max_depth_km": 15.0,
           "path": str(ROOT / cfg["catalog"]["path"]) if not Path(cfg["catalog"]["path"]).is_absolute() else cfg["catalog"]["path"]}
    src, _ = source_events(cat, {}, Exclusion.from_records([]), 0.0, True)
    order = np.random.default_rng(seed).permutation(len(src))
    ev_src = [src[i] for i in order[:n_eval]]
    tr_src = [src[i] for i in order[n_eval:]]
    ds, ts = root / "dataset", root / "trainingset"
    ds.mkdir(parents=True, exist_ok=True)
    ts.mkdir(parents=True, exist_ok=True)
    write_shard(realisations(ev_src, 1, None, 0.0, seed), cfg["simulate"], layout, cfg["seed"], ds / "eval.h5", ds / "eval.csv",
                ds / "eval.json")
    write_shard(realisations(tr_src, 3, n_train, 0.2, seed), cfg["simulate"], layout, cfg["seed"], ts / "shard0.h5",
                ts / "shard0.csv", ts / "shard0.json")
    merge_index([ts / "shard0.csv"], ts / "index.csv")
    ev = pd.read_csv(ds / "eval.csv", dtype={"event_id": str})
    ids = sorted(ev["event_id"].unique())
    split = {e: ("val" if k % 2 else "test") for k, e in enumerate(ids)}
    ev["split"] = ev["event_id"].map(split)
    ev["h5_path"] = "eval.h5"
    buf = io.StringIO()
    ev.to_csv(buf, index=False)
    (ds / "index.csv").write_text(buf.getvalue())
    return ds, ts / "index.csv"
