"""Benchmark: PatchDataset + DataLoader throughput and the data-loading share of a training step.

Builds a dataset of ``--patches`` 256 x 256 x 3 float32 patches (coherence, i, q) with the real
pipeline (synthetic interferograms -> ``tile_event`` -> ``build_dataset``), then measures

* throughput of ``DataLoader(PatchDataset(..., augment=True), batch_size=32, shuffle=True,
  num_workers=2)`` in patches/s (target >= 500), whole epochs including worker start-up, and
  the steady state (epoch time after the first batch);
* the same loop with ``num_workers=0`` and a bare h5py read loop (baselines, same run);
* three storage variants: float32 + gzip (the default), float16 + gzip, float32 uncompressed
  (``patches.compression: none``), plus a raw-read comparison of gzip, lzf and no filter;
* a training loop of the project's ``smallcnn`` (quakesar.learning.models) on this CPU: time
  spent waiting for the next batch vs. forward/backward/step, i.e. the data-loading share of a
  step.

Usage: ``python benchmarks/dataloader.py [--patches 512 --epochs 3 --steps 12]``.
Writes ``benchmarks/results/dataloader.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from quakesar.atomic import write_json
from quakesar.dataset.index import build_dataset
from quakesar.dataset.torchdata import PatchDataset
from quakesar.patches.synthetic import make_interferogram
from quakesar.patches.tiling import tile_event

SIZE = 256


def build(tmp: Path, n_patches: int, dtype: str, compression: str = "gzip") -> Path:
    """Tile synthetic interferograms into ``n_patches`` 256 x 256 patches in 4 events; return the index CSV."""
    per_event = max(1, n_patches // 4)
    rows, cols = SIZE * 8, SIZE * max(1, per_event // 8)  # 8 x (per_event / 8) windows of 256 x 256
    csvs = []
    for k in range(4):
        rng = np.random.default_rng(k)
        noise = rng.normal(0.0, 0.5, (rows, cols)).astype(np.float32)
        ifg = tmp / f"ev{k}" / "IW1.h5"
        ifg.parent.mkdir(parents=True, exist_ok=True)
        make_interferogram(ifg, rows, cols, lat0=30.0 + 3 * k, lon0=40.0 + 3 * k, scene_id=f"s{k}",
                           phase=lambda r, c: (r / 97.0 + c / 61.0).astype(np.float32) + noise,
                           coherence=rng.uniform(0.2, 0.9, (rows, cols)).astype(np.float32))
        ev = {"id": f"ev{k}", "latitude": 30.1 + 3 * k, "longitude": 40.1 + 3 * k, "magnitude": 6.0 + 0.2 * k,
              "magnitude_type": "mww", "mw": 6.0 + 0.2 * k, "depth_km": 10.0, "time": "2020-01-05T00:00:00Z"}
        tile_event(ev, [ifg], {"window": SIZE, "size": SIZE, "dtype": dtype, "compression": compression}, tmp / "patches" / f"ev{k}.h5",
                   tmp / "patches" / f"ev{k}.csv")
        csvs.append(tmp / "patches" / f"ev{k}.csv")
    build_dataset(csvs, {"fractions": {"train": 1.0, "val": 0.0, "test": 0.0}}, 0, tmp / "dataset")
    return tmp / "dataset" / "index.csv"


def throughput(ds: PatchDataset, workers: int, epochs: int, batch: int) -> dict:
    """Patches per second over whole epochs (worker start included) and after each epoch's first batch."""
    whole, steady, n = [], [], 0
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                            generator=torch.Generator().manual_seed(epoch))
        t0 = time.perf_counter()
        t1, count = None, 0
        for x, _, _ in loader:
            if t1 is None:
                t1, first = time.perf_counter(), x.shape[0]
            count += x.shape[0]
        t2 = time.perf_counter()
        whole.append(count / (t2 - t0))
        steady.append((count - first) / (t2 - t1))
        n = count
    return {"workers": workers, "patches_per_epoch": n, "epochs": epochs,
            "patches_per_s_whole_epoch": round(float(np.median(whole)), 1),
            "patches_per_s_steady": round(float(np.median(steady)), 1)}


def raw_read(ds: PatchDataset, n: int) -> dict:
    """I/O floor in one process: h5py reads of the same patches in random order, nothing else."""
    import h5py

    order = np.random.default_rng(0).permutation(len(ds))[:n]
    files = {p: h5py.File(p, "r")["patches"] for p in set(ds.paths)}
    t0 = time.perf_counter()
    for k in order:
        files[ds.paths[k]][ds.h5_index[k]]
    return {"patches": int(n), "patches_per_s": round(n / (time.perf_counter() - t0), 1)}


def filter_comparison(ds: PatchDataset, tmp: Path, n: int) -> dict:
    """Raw one-process read rate of the same patches re-stored with other HDF5 filters (what gzip costs)."""
    import h5py

    out = {}
    for name, kw in (("gzip4_shuffle (as written)", None), ("lzf_shuffle", {"compression": "lzf", "shuffle": True}),
                     ("uncompressed", {})):
        if kw is None:
            paths = {p: p for p in set(ds.paths)}
        else:
            paths = {}
            for p in sorted(set(ds.paths)):
                q = tmp / f"{Path(p).stem}_{name}.h5"
                with h5py.File(p, "r") as src, h5py.File(q, "w") as dst:
                    x = src["patches"][()]
                    dst.create_dataset("patches", data=x, chunks=(1, *x.shape[1:]), **kw)
                paths[p] = str(q)
        files = {p: h5py.File(q, "r")["patches"] for p, q in paths.items()}
        order = np.random.default_rng(1).permutation(len(ds))[:n]
        t0 = time.perf_counter()
        for k in order:
            files[ds.paths[k]][ds.h5_index[k]]
        out[name] = {"patches_per_s": round(n / (time.perf_counter() - t0), 1),
                     "mb_per_patch": round(sum(Path(q).stat().st_size for q in paths.values()) / len(ds) / 2**20, 3)}
    return out


def train_share(ds: PatchDataset, steps: int, batch: int) -> dict:
    """Fraction of a smallcnn training step spent waiting for data (2 workers, CPU compute)."""
    from quakesar.learning.models import build_model

    torch.manual_seed(0)
    model = build_model("smallcnn", in_chans=3, num_outputs=2, img_size=SIZE)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loader = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=2, generator=torch.Generator().manual_seed(0))
    it = iter(loader)
    wait = compute = 0.0
    done = 0
    x, t, _ = next(it)  # worker start-up excluded
    while done < steps:
        c0 = time.perf_counter()
        y = torch.stack([t["east_km"], t["north_km"]], dim=1)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        c1 = time.perf_counter()
        compute += c1 - c0
        done += 1
        try:
            x, t, _ = next(it)
        except StopIteration:
            it = iter(loader)
            x, t, _ = next(it)
        wait += time.perf_counter() - c1
    return {"model": "smallcnn", "batch": batch, "steps": steps, "torch_threads": torch.get_num_threads(),
            "compute_s_per_step": round(compute / steps, 4), "data_wait_s_per_step": round(wait / steps, 4),
            "data_loading_share": round(wait / (wait + compute), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patches", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "dataloader.json"))
    args = ap.parse_args()
    result: dict = {"benchmark": "dataloader", "cpu_count": os.cpu_count(),
                    "machine": f"{platform.machine()}, python {platform.python_version()}, torch {torch.__version__}",
                    "patch_shape": [3, SIZE, SIZE], "target_patches_per_s": 500}
    with tempfile.TemporaryDirectory(prefix="quakesar-bench-") as tmp:
        for dtype, comp in (("float32", "gzip"), ("float16", "gzip"), ("float32", "none")):
            name = f"{dtype}_{comp}"
            index = build(Path(tmp) / name, args.patches, dtype, comp)
            ds = PatchDataset(index, "train", None, index.parent / "norm_stats.json", augment=True, seed=0)
            res = {"stored_dtype": dtype, "compression": comp, "patches": len(ds),
                   "h5_mb": round(sum(p.stat().st_size for p in (Path(tmp) / name / "patches").glob("*.h5")) / 2**20, 1),
                   "two_workers": throughput(ds, 2, args.epochs, args.batch),
                   "baseline_no_workers": throughput(ds, 0, args.epochs, args.batch),
                   "baseline_raw_h5py_read_one_process": raw_read(ds, len(ds))}
            res["ratio_two_workers_to_none"] = round(res["two_workers"]["patches_per_s_whole_epoch"]
                                                     / res["baseline_no_workers"]["patches_per_s_whole_epoch"], 2)
            res["meets_target"] = res["two_workers"]["patches_per_s_whole_epoch"] >= 500
            if name == "float32_gzip":
                res["filter_comparison_raw_read_one_process"] = filter_comparison(ds, Path(tmp), len(ds))
                res["training_step"] = train_share(ds, args.steps, args.batch)
            result[name] = res
    result["load_average_1_5_15_min_at_end"] = [round(v, 2) for v in os.getloadavg()]
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
