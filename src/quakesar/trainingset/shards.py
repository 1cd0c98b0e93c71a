"""Shards of the training-data tier: HDF5 pixels + CSV rows in the patch stage's format.

A shard holds the patches of every ``n_shards``-th synthetic event (round robin, so shards are
balanced in magnitude); its CSV has the patch stage's columns (:data:`quakesar.patches.tiling.COLUMNS`,
``EXTRA_COLUMNS``, ``LEARNING_COLUMNS``) plus ``parent_id`` (the catalog source event), and its HDF5
file the ``patches`` dataset ``[N, C, size, size]`` with the channel names as an attribute, like a patch
file. An event that fails to simulate is logged and listed in the summary; the shard goes on.
"""

from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np
import pandas as pd

from quakesar import __version__
from quakesar.atomic import atomic_path, dumps_json, write_if_changed, write_json
from quakesar.patches.tiling import COLUMNS, EXTRA_COLUMNS, LEARNING_COLUMNS, PatchWriter
from quakesar.synthetic import landmask
from quakesar.synthetic.patchsim import PatchLayout, simulate_patches

log = logging.getLogger(__name__)

SHARD_COLUMNS = (*COLUMNS, *EXTRA_COLUMNS, *LEARNING_COLUMNS, "parent_id")
FORMAT = "quakesar-trainingset-1"


def shard_records(records: list[Mapping[str, Any]], shard: int, n_shards: int) -> list[Mapping[str, Any]]:
    """The records of shard ``shard`` of ``n_shards`` (every n-th, starting at ``shard``)."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"trainingset shard {shard} is outside 0..{n_shards - 1}")
    return list(records[shard::n_shards])


def write_shard(records: list[Mapping[str, Any]], sim_cfg: Mapping[str, Any], layout: PatchLayout, seed: int,
                out_h5: Path, out_csv: Path, out_summary: Path, *, supersample: int = 2, dtype: str = "float16") -> dict[str, Any]:
    """Simulate ``records`` and write the shard's three files atomically; returns the summary."""
    t0 = time.perf_counter()
    if len(records) > 3:
        landmask.preload()  # events all over the globe: one read of the whole mask instead of a band per event
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    n_signal = 0
    with atomic_path(Path(out_h5)) as tmp, h5py.File(tmp, "w") as f:
        writer = PatchWriter(f, len(layout.channels), layout.size, dtype, "none")
        for rec in records:
            try:
                pix, ev_rows, _ = simulate_patches(rec, sim_cfg, layout, seed, supersample=supersample)
            except Exception as exc:  # one bad event never stops the shard
                log.warning("trainingset: event %s failed: %s", rec.get("id"), exc)
                failed.append({"id": str(rec.get("id")), "error": f"{type(exc).__name__}: {exc}"})
                continue
            first = writer.append(pix)
            for k, r in enumerate(ev_rows):
                r["h5_index"] = first + k
                r["parent_id"] = rec.get("parent_id", rec["id"])
                n_signal += int(r.get("signal") == 1)
            rows.extend(ev_rows)
        ds = writer.ds
        ds.attrs["channels"] = json.dumps(list(layout.channels))
        f.attrs["channels"] = json.dumps(list(layout.channels))
        f.attrs["format"] = FORMAT
        f.attrs["software_version"] = f"quakesar {__version__}"
    frame = pd.DataFrame(rows, columns=list(SHARD_COLUMNS))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.8g", lineterminator="\n")
    write_if_changed(Path(out_csv), buf.getvalue())
    summary = {"events": len(records) - len(failed), "failed": failed, "patches": len(rows), "signal_patches": n_signal,
               "seconds": round(time.perf_counter() - t0, 3), "supersample": supersample, "dtype": dtype,
               "layout": layout.__dict__ | {"channels": list(layout.channels)}}
    write_json(Path(out_summary), summary)
    log.info("trainingset shard %s: %d events, %d patches (%d signal) in %.1f s", out_h5, summary["events"], len(rows),
             n_signal, summary["seconds"])
    return summary


def merge_index(shard_csvs: list[Path], out_csv: Path) -> pd.DataFrame:
    """One index of all shards: their rows plus ``h5_path`` relative to ``out_csv``'s directory."""
    frames = []
    for csv in sorted(Path(p) for p in shard_csvs):
        df = pd.read_csv(csv, dtype={"event_id": str, "parent_id": str, "patch_id": str, "scene_id": str, "subswath": str,
                                     "magnitude_type": str, "source_file": str})
        missing = [c for c in SHARD_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(f"{csv}: trainingset shard CSV lacks columns {missing}")
        h5 = csv.with_suffix(".h5")
        if not h5.is_file():
            raise ValueError(f"{csv}: its shard file {h5} does not exist")
        df["h5_path"] = str(Path(h5).resolve().relative_to(Path(out_csv).resolve().parent)) if _inside(h5, out_csv) else str(h5.resolve())
        frames.append(df)
    index = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*SHARD_COLUMNS, "h5_path"])
    index["split"] = "train"
    index["origin"] = "trainingset"
    buf = io.StringIO()
    index.to_csv(buf, index=False, float_format="%.8g", lineterminator="\n")
    write_if_changed(Path(out_csv), buf.getvalue())
    return index


def _inside(path: Path, out_csv: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(out_csv).resolve().parent)
        return True
    except ValueError:
        return False


def summary_text(summaries: list[dict[str, Any]]) -> str:
    """A JSON summary of all shards (events, patches, signal patches, seconds)."""
    keys = ("events", "patches", "signal_patches", "seconds")
    total = {k: float(np.sum([s.get(k, 0) for s in summaries])) for k in keys}
    total["failed"] = [f for s in summaries for f in s.get("failed", [])]
    return dumps_json(total)
