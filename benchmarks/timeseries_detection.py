"""Time-series auto-encoder: detection limit vs noise, denoising RMSE vs two baselines, timing (issue 15).

Question: how small a coseismic step (peak LOS, mm) does the auto-encoder detect in >= 90 % of series at a
false-alarm rate <= 5 %, as a function of the pair turbulence std; how much closer to the truth is its
cumulative deformation map than the best single pair and a plain stack measured in the same run; and down
to which magnitude shallow catalog events become detectable with a series versus a single pair.

Method: simulate a training and a validation set (:mod:`quakesar.timeseries.simulate`), train
(:func:`quakesar.timeseries.train.fit`), evaluate (:func:`quakesar.timeseries.evaluate.evaluate`: fresh
evaluation sets, baselines in the same run). Everything deterministic from ``--seed``. CUDA is used when
present (``device auto``); on CPU one torch thread (``--threads``).

The issue's full benchmark (<= 60 min on 2 cores) is ``--train-samples 6000 --epochs 12``; the default here
is a **reduced** run (1,300 series, 8 epochs: about 12-15 min on one shared core) whose settings are recorded in the JSON.
Writes ``benchmarks/results/timeseries_detection.json`` (or ``--out``) and prints it.

Usage::

    .venv/bin/python benchmarks/timeseries_detection.py                 # reduced run
    .venv/bin/python benchmarks/timeseries_detection.py --quick         # ~1 min smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from quakesar.atomic import write_json  # noqa: E402
from quakesar.timeseries.dataset import simulate_split, write_dataset  # noqa: E402
from quakesar.timeseries.evaluate import evaluate  # noqa: E402
from quakesar.timeseries.settings import SeriesSettings  # noqa: E402
from quakesar.timeseries.train import fit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train-samples", type=int, default=1300)
    p.add_argument("--val-samples", type=int, default=200)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n-dates", type=int, default=11)
    p.add_argument("--samples-per-peak", type=int, default=40)
    p.add_argument("--negatives", type=int, default=200)
    p.add_argument("--rmse-samples", type=int, default=200)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--det-weight", type=float, default=1.0)
    p.add_argument("--step-features", action="store_true", help="add the step-filter bank input")
    p.add_argument("--seed", type=int, default=20240521)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--workdir", type=Path, default=None, help="keep data and model here (default: a temporary dir)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "timeseries_detection.json")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (32 px, 200 samples, 2 epochs)")
    a = p.parse_args(argv)
    if a.quick:
        a.train_samples, a.val_samples, a.epochs, a.size, a.samples_per_peak, a.negatives, a.rmse_samples = 200, 50, 2, 32, 10, 40, 40
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(a.threads)
    work = a.workdir or Path(tempfile.mkdtemp(prefix="ts-bench-"))
    settings = SeriesSettings(size=a.size, n_dates=a.n_dates)
    load0 = os.getloadavg()[0]
    t0 = time.time()
    write_dataset(work / "train.h5", simulate_split("train", a.train_samples, settings, a.seed), settings, a.seed, "train",
                  a.train_samples)
    write_dataset(work / "val.h5", simulate_split("val", a.val_samples, settings, a.seed), settings, a.seed, "val", a.val_samples)
    t_sim = time.time() - t0
    train_cfg = {"epochs": a.epochs, "threads": a.threads, "device": a.device, "lr": a.lr, "det_weight": a.det_weight,
                 "step_features": a.step_features}
    summary = fit(work / "train.h5", work / "val.h5", work / "model", train_cfg, a.seed, progress=False)
    t_train = time.time() - t0 - t_sim
    eval_cfg = {"samples_per_peak": a.samples_per_peak, "negatives": a.negatives, "rmse_samples": a.rmse_samples}
    result = evaluate(work / "model" / "checkpoint.pt", eval_cfg, a.seed,
                      catalog_csv=ROOT / "config" / "catalog" / "usgs-comcat-m5-world-2013-2023.csv",
                      device=a.device, threads=a.threads)
    t_eval = time.time() - t0 - t_sim - t_train
    result["benchmark"] = {
        "reduced": not (a.train_samples >= 6000 and a.epochs >= 12), "quick": a.quick,
        "train_samples": a.train_samples, "val_samples": a.val_samples, "epochs": a.epochs, "size": a.size,
        "n_dates": a.n_dates, "threads": a.threads, "lr": a.lr, "det_weight": a.det_weight, "step_features": a.step_features, "train": summary,
        "seconds": {"simulate": round(t_sim, 1), "train": round(t_train, 1), "evaluate": round(t_eval, 1),
                    "total": round(time.time() - t0, 1)},
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "cpu_count": os.cpu_count(), "load_1min_before": load0, "load_1min_after": os.getloadavg()[0]},
        "workdir": str(work)}
    write_json(a.out, result)
    print(json.dumps({k: result[k] for k in ("denoising", "benchmark")}, indent=2, default=str))
    for row in result["detection"]:
        print(f"sigma {1e3 * row['noise_std_m']:.1f} mm:",
              {k: v["limit_interpolated_m"] and round(1e3 * v["limit_interpolated_m"], 2) for k, v in row["detectors"].items()})
    print("Mw_50:", result["magnitude"]["mw_50"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
