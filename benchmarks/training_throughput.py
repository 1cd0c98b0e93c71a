"""Training throughput (patches/s) on CPU and the data loader's share of the training step time.

Question (issue 7): how many patches per second does one training step process for ``smallcnn``
and ``resnet18`` on the CPU, at the embedded default's patch size (``config/config.yaml``:
32 px) and at the schema's full-resolution default (256 px), and how much of each step is spent
waiting for the data loader?

Method
------
* A real dataset on disk: patch HDF5 + CSV files in the patch stage's format (3 channels, float32,
  gzip, one chunk per patch) for a few synthetic events, merged by
  :func:`quakesar.dataset.index.build_dataset`, read by :class:`quakesar.dataset.torchdata.PatchDataset`
  (train split, normalisation, dihedral augmentation on, as in training).
* The training loop of :mod:`quakesar.learning.train` (AdamW, magnitude task, MSE + ranking,
  ``torch.set_num_threads(threads)``), loader as ``make_loader`` builds it. For each step:
  ``data_s`` = time blocked in ``next(loader)``, ``compute_s`` = forward + backward + optimiser
  step. One warm-up step is discarded. Throughput = patches / (data_s + compute_s).
* ``num_workers`` 0 (loading in the training process: its full cost) and, at 32 px, 2 (the schema default).
* The baseline of the ratios is smallcnn at 32 px with 0 workers, measured in the same run.

The 2-core reference machine is shared: the 1-minute load average before and after each
measurement is recorded next to it. Writes ``benchmarks/results/training_throughput.json``.

Usage::

    .venv/bin/python benchmarks/training_throughput.py            # about 2-4 minutes
    .venv/bin/python benchmarks/training_throughput.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import torch

from quakesar.atomic import write_json
from quakesar.dataset.index import build_dataset
from quakesar.dataset.torchdata import PatchDataset
from quakesar.geodesy import destination, geodesic_polar
from quakesar.learning.models import build_model
from quakesar.learning.tasks import TASKS, TargetScaler, stack_targets, task_loss
from quakesar.learning.train import make_loader, seed_everything
from quakesar.patches.tiling import COLUMNS, EXTRA_COLUMNS

WARMUP = 1
OUT = Path(__file__).resolve().parent / "results" / "training_throughput.json"


def make_dataset(root: Path, size: int, n_events: int, per_event: int) -> Path:
    """Patch files of ``n_events`` synthetic events of ``per_event`` patches of ``size`` px; returns the dataset dir."""
    rng = np.random.default_rng(0)
    csvs = []
    for k in range(n_events):
        elat, elon, mag = 30 + rng.uniform(-5, 5), 20 + 3 * k, round(rng.uniform(5.5, 7.5), 1)
        rows = []
        for j in range(per_event):
            clat, clon = destination(elat, elon, rng.uniform(0, 360), rng.uniform(5e3, 60e3))
            dist, _, e, n = geodesic_polar(clat, clon, elat, elon)
            r = {c: 0 for c in (*COLUMNS, *EXTRA_COLUMNS)}
            r.update(patch_id=f"b{k}_{j}", event_id=f"b{k}", scene_id=f"s{k}", subswath="IW1", h5_index=j, center_lat=float(clat),
                     center_lon=float(clon), epicenter_lat=elat, epicenter_lon=elon, distance_km=float(dist) / 1e3,
                     east_km=float(e) / 1e3, north_km=float(n) / 1e3, magnitude=mag, magnitude_type="mww", mw=mag, deformation=1,
                     event_time="2020-01-01T00:00:00Z", reference_time=f"2020-01-{k % 27 + 1:02d}T00:00:00Z",
                     secondary_time=f"2020-01-{k % 27 + 2:02d}T00:00:00Z", source_file=f"b{k}/IW1.h5", flight_direction="ascending",
                     footprint_south=float(clat) - 0.5, footprint_north=float(clat) + 0.5, footprint_west=float(clon) - 0.5,
                     footprint_east=float(clon) + 0.5)
            for c, (de, dn) in {"00": (-5, 5), "01": (5, 5), "11": (5, -5), "10": (-5, -5)}.items():
                la, lo = destination(clat, clon, np.degrees(np.arctan2(de, dn)), np.hypot(de, dn) * 1e3)
                r[f"corner_{c}_lat"], r[f"corner_{c}_lon"] = float(la), float(lo)
            rows.append(r)
        pdir = root / "patches"
        pdir.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows)[[*COLUMNS, *EXTRA_COLUMNS]].to_csv(pdir / f"b{k}.csv", index=False)
        with h5py.File(pdir / f"b{k}.h5", "w") as f:
            f.create_dataset("patches", data=rng.normal(size=(per_event, 3, size, size)).astype(np.float32),
                             chunks=(1, 3, size, size), compression="gzip")
            f.attrs["channels"] = json.dumps(["coherence", "i", "q"])
        csvs.append(pdir / f"b{k}.csv")
    ds = root / "dataset"
    build_dataset(csvs, {"fractions": {"train": 0.8, "val": 0.1, "test": 0.1}, "holdout": "event", "magnitude_bins": 1}, 0, ds)
    return ds


def measure(ds_dir: Path, model_name: str, batch_size: int, num_workers: int, steps: int, threads: int) -> dict:
    """Per-step data wait and compute time of the training loop (see module doc)."""
    torch.set_num_threads(threads)
    seed_everything(0)
    spec = TASKS["magnitude"]
    ds = PatchDataset(ds_dir / "index.csv", "train", ["magnitude"], ds_dir / "norm_stats.json", augment=True, seed=0)
    index = pd.read_csv(ds_dir / "index.csv")
    scaler = TargetScaler.fit(index, spec)
    x0 = ds[0][0]
    model = build_model(model_name, x0.shape[0], 1, x0.shape[-1])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    data_s, compute_s, n = 0.0, 0.0, 0
    load0 = os.getloadavg()[0]
    done, epoch = 0, 0
    while done < steps + WARMUP:
        epoch += 1
        it = iter(make_loader(ds, batch_size, True, num_workers, 0, epoch))
        while done < steps + WARMUP:
            t0 = time.perf_counter()
            try:
                x, targets, _ = next(it)
            except StopIteration:
                break
            t1 = time.perf_counter()
            z = scaler.transform(stack_targets(targets, spec))
            loss, _ = task_loss(spec, model(x), z, 1.0, 0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            t2 = time.perf_counter()
            done += 1
            if done > WARMUP:
                data_s += t1 - t0
                compute_s += t2 - t1
                n += x.shape[0]
        del it
    total = data_s + compute_s
    return {"model": model_name, "patch_size": int(x0.shape[-1]), "batch_size": batch_size, "num_workers": num_workers, "threads": threads,
            "steps": steps, "patches": n, "patches_per_s": round(n / total, 1), "data_share": round(data_s / total, 3),
            "data_ms_per_step": round(1e3 * data_s / steps, 2), "compute_ms_per_step": round(1e3 * compute_s / steps, 2),
            "load_avg_1min_before": round(load0, 2), "load_avg_1min_after": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps (smoke run)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: robust on a shared 2-core machine, see docs/learning.md)")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    # (model, patch size, batch size, measured steps, loader worker counts)
    cases = [("smallcnn", 32, 32, 40, (0, 2)), ("resnet18", 32, 32, 12, (0, 2)), ("smallcnn", 256, 8, 6, (0,)), ("resnet18", 256, 8, 3, (0,))]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (32, 256):
            ds = make_dataset(Path(tmp) / f"s{size}", size, n_events=10, per_event=40 if size == 32 else 12)
            for model, sz, bs, steps, worker_counts in cases:
                if sz != size:
                    continue
                for workers in worker_counts:
                    r = measure(ds, model, bs, workers, max(2, steps // 4) if a.quick else steps, a.threads)
                    print(json.dumps(r))
                    results.append(r)
    base = next(r for r in results if r["model"] == "smallcnn" and r["patch_size"] == 32 and r["num_workers"] == 0)["patches_per_s"]
    for r in results:
        r["ratio_to_smallcnn32_w0"] = round(r["patches_per_s"] / base, 3)
    out = {"benchmark": "training_throughput", "machine": f"{platform.machine()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}, "
                                                         f"torch {torch.__version__}", "device": "cpu", "quick": a.quick,
           "baseline": "smallcnn, 32 px, num_workers 0", "results": results}
    write_json(a.out, out)
    print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
