"""Deterministic training of the time-series auto-encoder, with checkpoints, resume and progress logging.

Run directory (``results/timeseries/model/``): ``checkpoint.pt`` (weights of the epoch with the lowest
validation loss, the model's settings and the simulator settings it was trained for), ``last.pt`` (resume
state), ``history.csv`` and ``train.json`` (summary).

* **Loss**: ``MSE(deformation) + det_weight * BCE(score, label)`` (``det_weight`` 1), the deformation in units of 1 cm on the
  referenced maps (:mod:`quakesar.timeseries.tensors`); label = peak |LOS| >= the label threshold.
* **Seeds**: initial weights from ``derived_seed(seed, "ts/init")``; epoch ``e``'s order and augmentation
  (the 8 rotations/reflections of the square tile, one per batch: the atmosphere is isotropic and a
  mirrored Okada pattern is the pattern of a mirrored fault) from ``derived_seed(seed, "ts/epoch", e)``.
  ``torch.use_deterministic_algorithms`` is on, so the same data and settings give the same weights.
* **Schedule**: AdamW (Loshchilov & Hutter 2019) with a cosine learning rate that depends only on the epoch
  number, so a resumed run follows the same schedule.
* **Resume**: ``last.pt`` holds model, optimiser, epoch, history, best state and a fingerprint of settings
  and data; a re-run with the same fingerprint continues after the last completed epoch and ends with the
  weights of an uninterrupted run; another fingerprint starts afresh.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from quakesar.atomic import atomic_path, write_json, write_text
from quakesar.rng import derived_seed
from quakesar.timeseries.dataset import SeriesArrays, read_dataset
from quakesar.timeseries.model import SeriesAutoencoder
from quakesar.timeseries.tensors import model_input, model_target

log = logging.getLogger("quakesar.timeseries.train")

DEFAULTS: dict[str, Any] = {"epochs": 8, "batch_size": 32, "lr": 4e-3, "weight_decay": 1e-4, "det_weight": 1.0,
                            "temporal_channels": 4, "temporal_layers": 1, "channels": [16, 32, 64], "step_features": False,
                            "device": "auto",
                            "threads": 1}
HISTORY_FIELDS = ("epoch", "lr", "train_loss", "train_mse", "train_bce", "val_loss", "val_mse", "val_bce", "best", "seconds")


class TrainingInterrupted(RuntimeError):
    """Raised by ``stop_after_epoch`` (a test hook that simulates a killed job)."""


def train_settings(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """``DEFAULTS`` updated with ``cfg`` (unknown keys are an error naming the key)."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"timeseries.train: unknown keys {unknown}; expected some of {sorted(DEFAULTS)}")
    out = {**DEFAULTS, **cfg}
    if int(out["epochs"]) < 1 or int(out["batch_size"]) < 1:
        raise ValueError(f"timeseries.train: epochs and batch_size must be >= 1, got {out['epochs']}, {out['batch_size']}")
    return out


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("timeseries.train.device: cuda requested but torch sees no GPU")
    return torch.device(name)


def build_model(meta: Mapping[str, Any]) -> SeriesAutoencoder:
    """The model of a checkpoint's ``model`` metadata (n_dates, temporal_channels, temporal_layers, channels)."""
    return SeriesAutoencoder(int(meta["n_dates"]), int(meta["temporal_channels"]), tuple(meta["channels"]),
                             int(meta["temporal_layers"]), bool(meta.get("step_features", False)))


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> tuple[SeriesAutoencoder, dict[str, Any]]:
    """``(model in eval mode, metadata)`` of a ``checkpoint.pt``; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no time-series checkpoint")
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt file
        raise ValueError(f"{path}: cannot read the time-series checkpoint ({exc})") from None
    for key in ("model", "state", "settings"):
        if key not in ckpt:
            raise ValueError(f"{path}: not a time-series checkpoint (no '{key}')")
    net = build_model(ckpt["model"]).to(device)
    net.load_state_dict(ckpt["state"])
    net.eval()
    return net, ckpt


def _augment(a: np.ndarray, op: int) -> np.ndarray:
    """One of the 8 symmetries of the square on the last two axes."""
    if op & 4:
        a = a[..., ::-1]
    return np.ascontiguousarray(np.rot90(a, op & 3, axes=(-2, -1)))


def _batch(data: SeriesArrays, idx: np.ndarray, threshold: float, op: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    x, dem = model_input(data.series[idx], data.dem[idx])
    y = model_target(data.cumulative[idx])
    label = (data.truth["peak_abs_los_m"][idx] >= threshold).astype(np.float32)
    label *= np.array([k != "none" for k in data.truth["kind"][idx]], np.float32)
    x, dem, y = _augment(x, op), _augment(dem, op), _augment(y, op)
    return tuple(torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in (x, dem, y, label))


def _loss(net: nn.Module, batch: tuple[torch.Tensor, ...], det_weight: float) -> tuple[torch.Tensor, float, float]:
    x, dem, y, label = batch
    pred, logit = net(x, dem)
    mse = nn.functional.mse_loss(pred, y)
    bce = nn.functional.binary_cross_entropy_with_logits(logit, label)
    return mse + det_weight * bce, float(mse.detach()), float(bce.detach())


def evaluate_loss(net: nn.Module, data: SeriesArrays, threshold: float, det_weight: float, batch_size: int,
                  device: torch.device) -> tuple[float, float, float]:
    """Mean (loss, mse, bce) over a dataset, no augmentation."""
    net.eval()
    tot = np.zeros(3)
    with torch.no_grad():
        for s0 in range(0, len(data), batch_size):
            idx = np.arange(s0, min(s0 + batch_size, len(data)))
            loss, mse, bce = _loss(net, _batch(data, idx, threshold, 0, device), det_weight)
            tot += np.array([float(loss.detach()), mse, bce]) * len(idx)
    return tuple(float(v) for v in tot / max(len(data), 1))  # type: ignore[return-value]


def _fingerprint(cfg: Mapping[str, Any], seed: int, train: SeriesArrays, val: SeriesArrays) -> str:
    h = hashlib.sha256()
    keep = {k: v for k, v in cfg.items() if k not in ("threads", "device")}
    h.update(json.dumps({"cfg": keep, "seed": seed, "settings": train.settings.as_dict()}, sort_keys=True, default=str).encode())
    for arr in (train.series[:, -1, :4, :4], val.series[:, -1, :4, :4], train.truth["peak_abs_los_m"]):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(f"{len(train)}/{len(val)}".encode())
    return h.hexdigest()[:16]


def _history_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _save(path: Path, obj: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def fit(train_path: str | Path, val_path: str | Path, out_dir: str | Path, cfg: Mapping[str, Any] | None, seed: int,
        *, stop_after_epoch: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Train on ``train_path``, select the epoch on ``val_path``; write the run directory; return the summary."""
    from tqdm.auto import tqdm

    cfg = train_settings(cfg)
    torch.set_num_threads(int(cfg["threads"]))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")   # deterministic cuBLAS (CUDA >= 10.2)
    torch.use_deterministic_algorithms(True)
    device = resolve_device(str(cfg["device"]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, val = read_dataset(train_path), read_dataset(val_path)
    if train.settings != val.settings:
        raise ValueError(f"{val_path}: simulated with other settings than {train_path}")
    threshold = float(train.settings.label_threshold_m)
    meta = {"n_dates": train.settings.n_dates, "temporal_channels": int(cfg["temporal_channels"]),
            "temporal_layers": int(cfg["temporal_layers"]), "channels": [int(c) for c in cfg["channels"]],
            "step_features": bool(cfg["step_features"])}
    torch.manual_seed(derived_seed(seed, "ts/init"))
    net = build_model(meta).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    fp = _fingerprint(cfg, seed, train, val)
    epochs, bs, det_w = int(cfg["epochs"]), int(cfg["batch_size"]), float(cfg["det_weight"])
    history: list[dict[str, Any]] = []
    best = {"val_loss": math.inf, "epoch": 0, "state": None}
    start = 1
    last = out / "last.pt"
    if last.is_file():
        state = torch.load(last, map_location=device, weights_only=False)
        if state.get("fingerprint") == fp:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            history, best, start = state["history"], state["best"], int(state["epoch"]) + 1
            log.info("resuming %s after epoch %d of %d", out, start - 1, epochs)
        else:
            log.info("%s: settings or data changed (fingerprint %s -> %s); training afresh", last, state.get("fingerprint"), fp)
    n = len(train)
    for epoch in range(start, epochs + 1):
        t0 = time.time()
        lr = float(cfg["lr"]) * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))
        for g in opt.param_groups:
            g["lr"] = lr
        rng = np.random.default_rng(derived_seed(seed, "ts/epoch", str(epoch)))
        order = rng.permutation(n)
        starts = list(range(0, n, bs))
        ops = rng.integers(0, 8, size=len(starts))
        net.train()
        tot = np.zeros(3)
        for b, s0 in enumerate(tqdm(starts, desc=f"timeseries epoch {epoch}/{epochs}", leave=False, disable=not progress,
                                    mininterval=5.0)):
            idx = np.sort(order[s0:s0 + bs])
            loss, mse, bce = _loss(net, _batch(train, idx, threshold, int(ops[b]), device), det_w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += np.array([float(loss.detach()), mse, bce]) * len(idx)
        tr = tot / n
        vl = evaluate_loss(net, val, threshold, det_w, bs, device)
        improved = vl[0] < best["val_loss"]
        if improved:
            best = {"val_loss": vl[0], "epoch": epoch, "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}}
        row = {"epoch": epoch, "lr": lr, "train_loss": tr[0], "train_mse": tr[1], "train_bce": tr[2], "val_loss": vl[0],
               "val_mse": vl[1], "val_bce": vl[2], "best": int(improved), "seconds": round(time.time() - t0, 2)}
        history.append(row)
        log.info("epoch %d/%d lr %.2e train loss %.4f (mse %.4f bce %.4f) val loss %.4f (mse %.4f bce %.4f)%s %.1f s",
                 epoch, epochs, lr, tr[0], tr[1], tr[2], vl[0], vl[1], vl[2], " *" if improved else "", row["seconds"])
        _save(last, {"fingerprint": fp, "model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                     "history": history, "best": best})
        if stop_after_epoch is not None and epoch >= stop_after_epoch and epoch < epochs:
            raise TrainingInterrupted(f"stopped after epoch {epoch} (test hook)")
    _save(out / "checkpoint.pt", {"model": meta, "state": best["state"], "settings": train.settings.as_dict(),
                                  "epoch": best["epoch"], "val_loss": best["val_loss"], "seed": int(seed),
                                  "train": {k: v for k, v in cfg.items()}, "fingerprint": fp})
    write_text(out / "history.csv", _history_csv(history))
    summary = {"best_epoch": best["epoch"], "best_val_loss": best["val_loss"], "epochs": epochs, "device": str(device),
               "train_samples": n, "val_samples": len(val), "seconds": round(sum(r["seconds"] for r in history), 2),
               "fingerprint": fp, "model": meta, "parameters": sum(p.numel() for p in net.parameters())}
    write_json(out / "train.json", summary)
    return summary
