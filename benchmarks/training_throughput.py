"""Training throughput (patches/s) of the gated multi-task trainer on CPU, and the batch assembly's share.

Question (issues 7, 12): how many patches per second does one training step of the gated patch model
(:class:`quakesar.learning.models.PatchNet`) process for the ``smallcnn`` and ``resnet18`` backbones on
the CPU, at the main config's patch size (``config/config.yaml``: ``patches.size``, 32 px) and at the
full-resolution size (256 px), and how much of a step is the in-memory batch assembly?

Method
------
* Data as the trainer holds it (:class:`quakesar.learning.data.PatchArrays`): float16 pixels
  ``[N, 3, S, S]`` in memory (coherence in [0, 1], i/q complex Gaussian plus a phase ramp), a table with
  the columns the arrays read (signal, epi_u/epi_v, mw, incidence, event ids); 5 signal patches per event.
  Pixel values do not change the cost of a step, so they are not simulated.
* The step of :func:`quakesar.learning.train.fit`, with the main config's ``train`` section
  (:func:`~quakesar.learning.train.train_config`: AdamW lr/weight decay, ``tasks`` detection + epicentre +
  magnitude with the ranking term, ``loss_weights``, ``hidden``, ``augment``), epoch rows from
  :func:`~quakesar.learning.data.epoch_items` and dihedral draws per item:

  - ``data_s``: ``PatchArrays.batch(idx)`` (gather + float16 -> float32) + ``model_input`` (coherence
    standardisation, unit phasor) + ``augment_batch`` (dihedral transform of pixels and offsets);
  - ``compute_s``: forward, the gated tasks' ``patch_loss`` sum, backward and the AdamW step.

  The new design has no loader (no workers, no disk reads in the loop): ``data_s`` is all the data cost.
  Warm-up steps (first ``WARMUP``) are discarded. Throughput = patches / (data_s + compute_s).
* Batch size: the main config's ``train.batch_size`` (64) at 32 px; 16 at 256 px (a 64-batch of 256 px
  takes 10-40 s per step on one core, too long for a short run); per-patch cost hardly depends on it.
* ``torch.set_num_threads(--threads)`` (default 1, as ``train.threads``: robust on the shared 2-core
  machine). Baseline of the ratios: smallcnn at the config's size, measured in the same run.

The 1-minute load average before and after each measurement is recorded next to it.
Writes ``benchmarks/results/training_throughput.json``.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/training_throughput.py            # about 2-4 minutes
    PYTHONPATH=src .venv/bin/python benchmarks/training_throughput.py --quick    # under 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from quakesar.atomic import write_json
from quakesar.config import load_config
from quakesar.learning.data import INPUT_CHANNELS, InputNorm, PatchArrays, augment_batch, epoch_items, model_input
from quakesar.learning.models import PatchNet
from quakesar.learning.tasks import LossContext, get_tasks
from quakesar.learning.train import seed_everything, train_config

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "training_throughput.json"
WARMUP = 2
SIGNAL_PER_EVENT = 5


def make_arrays(size: int, n_events: int, per_event: int, seed: int = 0) -> PatchArrays:
    """In-memory training arrays of ``n_events`` x ``per_event`` patches of ``size`` px (see module doc)."""
    rng = np.random.default_rng(seed)
    n = n_events * per_event
    ev = np.repeat(np.arange(n_events), per_event)
    signal = np.zeros(n, np.int64)
    for e in range(n_events):
        signal[e * per_event:e * per_event + SIGNAL_PER_EVENT] = 1
    table = pd.DataFrame({"event_id": [f"b{e}" for e in ev], "signal": signal,
                          "epi_u": rng.uniform(-3, 3, n), "epi_v": rng.uniform(-3, 3, n),
                          "mw": np.repeat(rng.uniform(5.5, 7.5, n_events), per_event), "incidence_deg": rng.uniform(30, 46, n)})
    yy, xx = np.mgrid[0:size, 0:size] / size
    pix = np.empty((n, 3, size, size), np.float16)
    for k in range(n):
        phi = 2 * np.pi * (rng.uniform(-3, 3) * xx + rng.uniform(-3, 3) * yy)
        noise = rng.normal(0, 0.3, (2, size, size))
        pix[k, 0] = rng.uniform(0.2, 0.9, (size, size))
        pix[k, 1] = np.cos(phi) + noise[0]
        pix[k, 2] = np.sin(phi) + noise[1]
    return PatchArrays(table, pix)


def measure(data: PatchArrays, model_name: str, batch_size: int, steps: int, threads: int, cfg: dict) -> dict:
    """Per-step batch assembly and compute time of the gated trainer's step (see module doc)."""
    torch.set_num_threads(threads)
    seed_everything(0)
    tasks = get_tasks(list(cfg["tasks"]))
    ctx = LossContext(6.5, 0.5, float(cfg["ranking_lambda"]), float(cfg["ranking_margin"]), dict(cfg["loss_weights"]))
    norm = InputNorm.fit(data.pixels)
    size = int(data.pixels.shape[-1])
    model = PatchNet(model_name, len(INPUT_CHANNELS), size, aux_dim=1, hidden=int(cfg["hidden"]))
    opt = torch.optim.AdamW(model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    model.train()
    rng = np.random.default_rng(1)
    items = np.empty(0, np.int64)
    while len(items) < (steps + WARMUP) * batch_size:
        items = np.concatenate([items, epoch_items(data.signal, rng, float(cfg["negatives_per_positive"]), cfg["max_patches_per_epoch"],
                                                   data.event_code, cfg["positives_per_event"])])
    draws = rng.integers(0, 8, size=len(items)) if cfg["augment"] else np.zeros(len(items), np.int64)
    weights = ctx.weights
    data_s = compute_s = 0.0
    n = 0
    load0 = os.getloadavg()[0]
    for step in range(steps + WARMUP):
        s0 = step * batch_size
        t0 = time.perf_counter()
        idx = items[s0:s0 + batch_size]
        b = data.batch(idx)
        x = model_input(b["raw"], norm)
        x, b["uv"] = augment_batch(x, b["uv"], draws[s0:s0 + batch_size])
        t1 = time.perf_counter()
        out = model(x, b["aux"])
        loss = torch.zeros(())
        for t in tasks:
            part, _ = t.patch_loss(out, b, ctx)
            if part is not None:
                loss = loss + float(weights.get(t.name, 1.0)) * part
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        float(loss.detach())
        t2 = time.perf_counter()
        if step >= WARMUP:
            data_s += t1 - t0
            compute_s += t2 - t1
            n += len(idx)
    total = data_s + compute_s
    return {"model": model_name, "patch_size": size, "batch_size": batch_size, "threads": threads, "steps": steps, "patches": n,
            "patches_per_s": round(n / total, 2), "data_share": round(data_s / total, 4),
            "data_ms_per_step": round(1e3 * data_s / steps, 2), "compute_ms_per_step": round(1e3 * compute_s / steps, 2),
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "load_avg_1min_before": round(load0, 2), "load_avg_1min_after": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps (smoke run, < 2 min)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 as train.threads; see docs/learning.md)")
    p.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    full = load_config(a.config)
    cfg = train_config(full["train"])
    size0, bs0 = int(full["patches"]["size"]), int(cfg["batch_size"])
    # (model, patch size, batch size, measured steps (default, quick))
    cases = [("smallcnn", size0, bs0, (60, 8)), ("resnet18", size0, bs0, (30, 3)),
             ("smallcnn", 256, 16, (10, 2)), ("resnet18", 256, 16, (5, 1))]
    results = []
    for size in dict.fromkeys(c[1] for c in cases):
        data = make_arrays(size, n_events=40 if size <= 64 else 8, per_event=30 if size <= 64 else 12)
        for model, sz, bs, (steps, qsteps) in cases:
            if sz != size:
                continue
            r = measure(data, model, bs, qsteps if a.quick else steps, a.threads, cfg)
            print(json.dumps(r), flush=True)
            results.append(r)
        del data
    base = next(r for r in results if r["model"] == "smallcnn" and r["patch_size"] == size0)["patches_per_s"]
    for r in results:
        r["ratio_to_baseline"] = round(r["patches_per_s"] / base, 4)
    out = {"benchmark": "training_throughput", "machine": f"{platform.machine()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}, "
                                                         f"torch {torch.__version__}", "device": "cpu", "quick": a.quick,
           "config": str(a.config.relative_to(ROOT) if a.config.is_relative_to(ROOT) else a.config),
           "train": {k: cfg[k] for k in ("tasks", "lr", "weight_decay", "ranking_lambda", "hidden", "augment", "negatives_per_positive",
                                         "positives_per_event")},
           "baseline": f"smallcnn, {size0} px, batch {bs0}", "results": results}
    write_json(a.out, out)
    print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
