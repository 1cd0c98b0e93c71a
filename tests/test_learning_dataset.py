"""The trainer on a real dataset: patch HDF5/CSV files written in the patch-stage format, merged and
split by ``quakesar.dataset.index.build_dataset`` and read by ``quakesar.dataset.torchdata.PatchDataset``
(lazy HDF5 reads, DataLoader worker processes, train-only normalisation, dihedral augmentation)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from quakesar.dataset.index import build_dataset
from quakesar.learning.train import train_run
from quakesar.patches.tiling import COLUMNS, EXTRA_COLUMNS

from test_learning import MemoryPatches, make_index  # noqa: E402  (tests/ is on sys.path under pytest's rootdir conftest-less import)


def write_patch_files(index: pd.DataFrame, out: Path) -> list[Path]:
    """One ``{event}.h5`` + ``{event}.csv`` pair per event, in the patch stage's format."""
    out.mkdir(parents=True, exist_ok=True)
    images = MemoryPatches(index.assign(split="all"), "all", size=16)
    csvs = []
    for k, (event, g) in enumerate(index.groupby("event_id", sort=True)):
        rows = g.copy()
        rows["h5_index"] = np.arange(len(rows))
        extra = {"row0": 0, "col0": 0, "row1": 16, "col1": 16, "magnitude_type": "mww", "mw": rows["magnitude"], "depth_km": 10.0,
                 "event_time": f"2020-01-{k + 1:02d}T00:00:00Z", "valid_fraction": 1.0, "flight_direction": "ascending",
                 "heading_deg": -12.0, "peak_abs_los_m": 0.05, "bearing_deg": 0.0, "track": 1,
                 "reference_time": f"2020-01-{k + 1:02d}T00:00:00Z", "secondary_time": f"2020-01-{k + 2:02d}T00:00:00Z",
                 "source_file": f"{event}/IW1.h5", "label_threshold_m": 0.01}
        for c, v in extra.items():
            rows[c] = v
        rows["footprint_south"], rows["footprint_north"] = rows["center_lat"].min() - 0.1, rows["center_lat"].max() + 0.1
        rows["footprint_west"], rows["footprint_east"] = rows["center_lon"].min() - 0.1, rows["center_lon"].max() + 0.1
        rows[[*COLUMNS, *EXTRA_COLUMNS]].to_csv(out / f"{event}.csv", index=False)
        with h5py.File(out / f"{event}.h5", "w") as f:
            f.create_dataset("patches", data=np.stack([images.x[i].numpy() for i in g.index]), chunks=(1, 3, 16, 16))
            f.attrs["channels"] = json.dumps(["coherence", "i", "q"])
        csvs.append(out / f"{event}.csv")
    return csvs


@pytest.fixture(scope="module")
def ds_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("built")
    index = make_index(n_events=10, per_event=6, seed=4).drop(columns=["split", "h5_path", "h5_index"])
    csvs = write_patch_files(index, root / "patches")
    build_dataset(csvs, {"fractions": {"train": 0.6, "val": 0.2, "test": 0.2}, "holdout": "event", "magnitude_bins": 1}, 7, root / "dataset")
    return root / "dataset"


@pytest.mark.parametrize("latlon", [False, True])
def test_train_on_built_dataset_with_workers_and_augmentation(tmp_path, ds_dir, latlon):
    idx = pd.read_csv(ds_dir / "index.csv")
    cfg = {"epochs": 2, "batch_size": 8, "num_workers": 1, "device": "cpu", "bootstrap": 100, "augment": True, "latlon_planes": latlon}
    m = train_run(ds_dir, "epicentre", "smallcnn", cfg, seed=0, out_dir=tmp_path / "run", progress=False, make_figures=False)
    assert m["in_chans"] == (5 if latlon else 3) and m["img_size"] == 16
    pred = pd.read_csv(tmp_path / "run" / "predictions.csv", dtype={"event_id": str})
    test = idx[idx["split"] == "test"]
    assert sorted(pred["patch_id"]) == sorted(test["patch_id"]) and m["n_events"] == test["event_id"].nunique()
    # rows map back to index.csv: the metadata in predictions.csv is that of the same patch
    assert (idx.loc[pred["row"], "patch_id"].to_numpy() == pred["patch_id"].to_numpy()).all()
    assert np.isfinite(pred["error_km"]).all() and m["event"]["error_km_median"]["value"] > 0


def test_cli_train_and_report_call_the_library(tmp_path, ds_dir, capsys):
    import argparse

    from quakesar.config import prepare_config
    from quakesar.learning.cli import register_cli

    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command", required=True))
    config = prepare_config({"results": str(tmp_path / "results"), "train": {"num_workers": 0, "bootstrap": 100, "device": "cpu"}})
    args = parser.parse_args(["train", "--task", "magnitude", "--model", "smallcnn", "--seed", "2", "--epochs", "1",
                              "--ranking-lambda", "0.5", "--dataset-dir", str(ds_dir)])
    assert args.handler(args, config) == 0
    run = tmp_path / "results" / "models" / "magnitude" / "smallcnn" / "lambda0.5_seed2"
    m = json.loads((run / "metrics.json").read_text())
    assert m["ranking_lambda"] == 0.5 and m["epochs_run"] == 1 and m["seed"] == 2
    args = parser.parse_args(["report", "--metrics", str(run / "metrics.json"), "--out-dir", str(tmp_path / "report")])
    assert args.handler(args, config) == 0
    assert "baseline: training mean" in (tmp_path / "report" / "summary.md").read_text()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--task", "magnitude", "--model", "resnet101"])
