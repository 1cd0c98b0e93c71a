"""Build ``results/dataset/``: merged patch index, leak-free split, train-only normalisation statistics.

Outputs (docs/architecture.md, "Dataset"): ``index.csv`` (every patch row of every event's
CSV, plus ``h5_path`` relative to the dataset directory, ``split`` and ``group_id``; no pixels
are copied), ``splits.json``, ``norm_stats.json`` and ``summary.json``. All are written with
``write_if_changed``, so an unchanged rebuild leaves them untouched.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from quakesar.atomic import dumps_json, write_if_changed
from quakesar.dataset.normalise import channel_stats, target_stats
from quakesar.dataset.split import SPLITS, assign_splits, group_events
from quakesar.patches.tiling import COLUMNS, EXTRA_COLUMNS
from quakesar.h5io import open_h5

log = logging.getLogger(__name__)

DATASET_FILES = ("index.csv", "splits.json", "norm_stats.json", "summary.json")


def _read_patch_csv(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"event_id": str, "scene_id": str, "patch_id": str, "magnitude_type": str,
                                      "subswath": str, "source_file": str}, keep_default_na=True)
    except (OSError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: cannot read patch CSV ({exc})") from exc
    missing = [c for c in (*COLUMNS, *EXTRA_COLUMNS) if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: patch CSV lacks columns {missing}")
    df["scene_id"] = df["scene_id"].fillna("")
    return df


def _channels(h5: Path) -> list[str]:
    import json

    with open_h5(h5) as f:
        return list(json.loads(f.attrs["channels"]))


def build_dataset(patch_csvs: list[Path], cfg: dict[str, Any], seed: int, out_dir: Path) -> None:
    """Merge the patch CSVs, split by grouped events, compute train statistics; write ``out_dir`` files.

    ``cfg`` is the ``dataset`` config section (``fractions``, ``holdout``, ``magnitude_bins``).
    """
    out_dir = Path(out_dir)
    cfg = cfg or {}
    frames, empty_events, channels = [], [], None
    for csv in sorted((Path(p) for p in patch_csvs), key=lambda p: p.name):
        df = _read_patch_csv(csv)
        h5 = csv.with_suffix(".h5")
        if not h5.is_file():
            raise ValueError(f"{csv}: its patch file {h5} does not exist")
        ch = _channels(h5)
        if channels is None:
            channels = ch
        elif ch != channels:
            raise ValueError(f"{h5}: channels {ch} differ from {channels} of the other events")
        if df.empty:
            empty_events.append(csv.name.removesuffix(".csv"))
            continue
        df.insert(len(df.columns), "h5_path", os.path.relpath(h5.resolve(), out_dir.resolve()))
        frames.append(df)
    cols = [*COLUMNS, *EXTRA_COLUMNS, "h5_path"]
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    dup = index["patch_id"][index["patch_id"].duplicated()]
    if len(dup):
        raise ValueError(f"patch ids are not unique across events, e.g. {dup.iloc[0]!r}")
    holdout = cfg.get("holdout", "event")
    groups = group_events(index, holdout) if len(index) else {}
    group_split = assign_splits(index, groups, cfg, seed) if len(index) else {}
    index["group_id"] = index["event_id"].astype(str).map(groups)
    index["split"] = index["group_id"].map(group_split)
    buf = io.StringIO()
    index.to_csv(buf, index=False, float_format="%.10g", lineterminator="\n")
    write_if_changed(out_dir / "index.csv", buf.getvalue())

    splits: dict[str, Any] = {"seed": int(seed), "method": holdout, "fractions": cfg.get("fractions"),
                              "magnitude_bins": cfg.get("magnitude_bins", 4), "events_without_patches": empty_events}
    for s in SPLITS:
        sub = index[index["split"] == s]
        splits[s] = {"events": sorted(sub["event_id"].unique().tolist()),
                     "groups": sorted(sub["group_id"].unique().tolist()),
                     "scenes": sorted(x for x in sub["scene_id"].unique().tolist() if x),
                     "patches": int(len(sub))}
    write_if_changed(out_dir / "splits.json", dumps_json(splits))

    train = index[index["split"] == "train"]
    stats = {"computed_on": "train", "channels": channel_stats(train, out_dir, channels or [], seed),
             "targets": target_stats(train)}
    write_if_changed(out_dir / "norm_stats.json", dumps_json(stats))

    summary = {"patches": int(len(index)), "events": int(index["event_id"].nunique()),
               "groups": int(index["group_id"].nunique()), "events_without_patches": len(empty_events),
               "channels": channels or [], "holdout": holdout,
               "per_split": {s: {"patches": splits[s]["patches"], "events": len(splits[s]["events"]),
                                 "groups": len(splits[s]["groups"]),
                                 "deformation_positive": int(pd.to_numeric(index.loc[index["split"] == s, "deformation"],
                                                                           errors="coerce").eq(1).sum())}
                             for s in SPLITS}}
    write_if_changed(out_dir / "summary.json", dumps_json(summary))
    log.info("dataset: %d patches of %d events in %d groups -> %s", summary["patches"], summary["events"],
             summary["groups"], out_dir)
