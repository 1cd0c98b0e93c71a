"""Training of one run: ``results/models/{task}/{model}/{run}/`` (docs/architecture.md "Models").

Design (docs/learning.md):

* **Seeds**: the weights are initialised from ``derived_seed(seed, "init", task, model)`` (not from
  lambda, so the ranking ablation compares identically initialised models), the training order of
  epoch ``e`` from ``derived_seed(seed, "shuffle", e)`` and data-loader workers from
  ``derived_seed(seed, "worker", e)`` + worker id (:mod:`quakesar.rng`).
* **Optimisation**: AdamW (Loshchilov & Hutter 2019), scheduler ``cosine`` | ``exponential``
  (gamma 0.95, as the reference thesis) | ``onecycle`` (Smith & Topin 2019, stepped per batch) |
  ``none``; automatic mixed precision only on CUDA (``train.amp``).
* **Selection**: after every epoch the validation split is scored with a lambda-independent
  criterion (mean absolute error in target units; the mean Euclidean offset error in km for the
  epicentre; BCE for detection); the best epoch is saved to ``checkpoint.pt`` and the test split is
  predicted with it (never with the last epoch). Early stopping after ``train.patience`` epochs
  without improvement (0 disables it).
* **Resume**: ``last.pt`` (model, optimiser, scheduler, AMP scaler, epoch, best score, patience
  counter, history, torch RNG state, a fingerprint of the run settings) is written atomically after
  every epoch; a rerun with the same fingerprint continues after the last completed epoch and ends
  with the same weights as an uninterrupted run.
  The best weights are also kept in ``last.pt`` so that ``checkpoint.pt`` is restored if a
  workflow manager deleted it with the outputs of the interrupted job.
* **Batches of one**: the last training batch is dropped only when it would hold exactly one
  sample of a larger split (batch-norm layers cannot normalise a single 1x1 feature map); the
  ranking loss itself handles a batch of one (no pair, zero term).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import logging
import random
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from quakesar.atomic import atomic_path, dumps_json, write_json, write_text
from quakesar.learning.evaluate import build_predictions, evaluate_predictions
from quakesar.learning.models import build_model
from quakesar.learning.tasks import TargetScaler, TaskSpec, get_task, stack_targets, task_loss
from quakesar.rng import derived_seed

log = logging.getLogger("quakesar.learning.train")

HISTORY_FIELDS = ("epoch", "lr", "train_loss", "train_mse", "train_ranking", "val_loss", "val_score", "best", "seconds")


class TrainingInterrupted(RuntimeError):
    """Raised by ``stop_after_epoch`` (a test hook that simulates a killed job after an epoch)."""


def train_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """The ``train`` section with the schema defaults filled in and validated."""
    import jsonschema

    from quakesar.config import ConfigError, fill_defaults, load_schema

    sub = load_schema()["properties"]["train"]
    full = fill_defaults({"train": dict(cfg or {})}, {"properties": {"train": sub}})["train"]
    errors = sorted(jsonschema.Draft202012Validator(sub).iter_errors(full), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("invalid train config:\n  " + "\n  ".join(f"train.{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
    return full


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed python, numpy's legacy global and torch (CPU and CUDA) generators; deterministic cuDNN."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def _seed_worker(worker_id: int, base: int) -> None:
    seed_everything((base + worker_id) % 2**32)


def make_loader(ds: Dataset, batch_size: int, shuffle: bool, num_workers: int, seed: int, epoch: int) -> DataLoader:
    """A deterministic loader: order and worker seeds derive from ``seed`` and ``epoch``."""
    n = len(ds)  # type: ignore[arg-type]
    g = torch.Generator()
    g.manual_seed(derived_seed(seed, "shuffle", str(epoch)))
    drop_last = bool(shuffle and n > 1 and n % batch_size == 1)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g, num_workers=num_workers, drop_last=drop_last,
                      worker_init_fn=functools.partial(_seed_worker, base=derived_seed(seed, "worker", str(epoch))),
                      persistent_workers=False)


def _unpack(batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    if not (isinstance(batch, (list, tuple)) and len(batch) == 3 and isinstance(batch[1], dict)):
        raise TypeError("the dataset must yield (x [C,H,W], targets dict, row int)")
    return batch[0], batch[1], torch.as_tensor(batch[2]).reshape(-1)


def _make_scheduler(name: str, opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int, lr: float):
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(epochs * max(steps_per_epoch, 1), 2))
    return None


def fingerprint(obj: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the settings that define a run (resume only when equal)."""
    return hashlib.sha256(dumps_json(obj).encode()).hexdigest()


def _save_torch(path: Path, obj: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(history)
    write_text(path, buf.getvalue())


def evaluate_loader(model: torch.nn.Module, loader: DataLoader, spec: TaskSpec, scaler: TargetScaler, device: torch.device,
                    amp: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``model`` over ``loader``: (rows, outputs in target units or logits, targets in target units)."""
    model.eval()
    rows, outs, ys = [], [], []
    with torch.no_grad():
        for batch in loader:
            x, targets, row = _unpack(batch)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
                o = model(x.to(device, non_blocking=True))
            rows.append(row.numpy())
            outs.append(o.float().cpu().numpy())
            ys.append(stack_targets(targets, spec).numpy())
    if not rows:
        k = spec.num_outputs
        return np.zeros(0, int), np.zeros((0, k)), np.zeros((0, k))
    out = np.concatenate(outs)
    if spec.kind == "regression":
        out = scaler.inverse(out)
    return np.concatenate(rows).astype(int), out, np.concatenate(ys)


def validation_score(spec: TaskSpec, out: np.ndarray, y: np.ndarray) -> float:
    """The lambda-independent model-selection criterion (lower is better; see module doc)."""
    ok = np.isfinite(y).all(axis=1)
    out, y = out[ok], y[ok]
    if len(y) == 0:
        return float("nan")
    if spec.kind == "binary":
        p = np.clip(1.0 / (1.0 + np.exp(-out[:, 0])), 1e-7, 1 - 1e-7)
        return float(-np.mean(y[:, 0] * np.log(p) + (1 - y[:, 0]) * np.log(1 - p)))
    if spec.name == "epicentre":
        return float(np.mean(np.hypot(out[:, 0] - y[:, 0], out[:, 1] - y[:, 1])))
    return float(np.mean(np.abs(out - y)))


def fit(model: torch.nn.Module, spec: TaskSpec, train_ds: Dataset, val_ds: Dataset, scaler: TargetScaler, cfg: dict[str, Any], seed: int,
        out_dir: Path, ranking_lambda: float, device: torch.device, run_fingerprint: str, stop_after_epoch: int | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Train ``model`` with checkpointing, early stopping and resume; returns the training summary.

    Writes ``checkpoint.pt`` (best on validation), ``last.pt``, ``history.csv`` and ``tensorboard/``
    in ``out_dir``. ``model`` must already hold the seed-initialised weights.
    """
    from tqdm.auto import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    use_amp = bool(cfg["amp"]) and device.type == "cuda"
    epochs = int(cfg["epochs"])
    bs = int(cfg["batch_size"])
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    n_train = len(train_ds)  # type: ignore[arg-type]
    steps = (n_train // bs) if (n_train > 1 and n_train % bs == 1) else -(-n_train // bs)
    sched = _make_scheduler(cfg["scheduler"], opt, epochs, steps, float(cfg["lr"]))
    amp_scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    margin_z = float(cfg["ranking_margin"]) / scaler.std[0]
    state = {"epoch": 0, "best_score": float("inf"), "best_epoch": 0, "bad_epochs": 0, "history": [], "stopped_early": False}
    last_path, best_path = out_dir / "last.pt", out_dir / "checkpoint.pt"
    if last_path.is_file():
        ck = torch.load(last_path, map_location=device, weights_only=False)
        if ck.get("fingerprint") == run_fingerprint:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None and ck.get("scheduler") is not None:
                sched.load_state_dict(ck["scheduler"])
            if use_amp and ck.get("amp_scaler"):
                amp_scaler.load_state_dict(ck["amp_scaler"])
            torch.set_rng_state(ck["torch_rng"])
            if device.type == "cuda" and ck.get("cuda_rng") is not None:
                torch.cuda.set_rng_state_all(ck["cuda_rng"])
            state = ck["state"]
            log.info("resuming %s after epoch %d", out_dir, state["epoch"])
        else:
            log.warning("%s: last.pt belongs to other settings; training from scratch", last_path)
    from torch.utils.tensorboard import SummaryWriter

    tb = SummaryWriter(str(out_dir / "tensorboard"), purge_step=state["epoch"] + 1)
    val_loader = make_loader(val_ds, bs, False, int(cfg["num_workers"]), seed, 0)
    t_start = time.perf_counter()
    n_seen = 0
    try:
        while state["epoch"] < epochs and not state["stopped_early"]:
            epoch = state["epoch"] + 1
            t0 = time.perf_counter()
            if hasattr(train_ds, "set_epoch"):
                train_ds.set_epoch(epoch)  # type: ignore[attr-defined]
            loader = make_loader(train_ds, bs, True, int(cfg["num_workers"]), seed, epoch)
            model.train()
            sums: dict[str, float] = {"loss": 0.0, "mse": 0.0, "ranking": 0.0}
            nb = 0
            for batch in tqdm(loader, desc=f"{spec.name} epoch {epoch}/{epochs}", leave=False, disable=not progress, mininterval=2.0):
                x, targets, _ = _unpack(batch)
                z = scaler.transform(stack_targets(targets, spec)).to(device)
                with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                    out = model(x.to(device, non_blocking=True))
                loss, parts = task_loss(spec, out.float(), z, ranking_lambda, margin_z)
                opt.zero_grad(set_to_none=True)
                amp_scaler.scale(loss).backward()
                amp_scaler.step(opt)
                amp_scaler.update()
                if sched is not None and cfg["scheduler"] == "onecycle":
                    sched.step()
                sums["loss"] += float(loss.detach())
                sums["mse"] += parts.get("mse", parts.get("bce", 0.0))
                sums["ranking"] += parts.get("ranking", 0.0)
                nb += 1
                n_seen += int(x.shape[0])
            lr_now = opt.param_groups[0]["lr"]
            if sched is not None and cfg["scheduler"] != "onecycle":
                sched.step()
            _, vout, vy = evaluate_loader(model, val_loader, spec, scaler, device, use_amp)
            score = validation_score(spec, vout, vy)
            vz = scaler.transform(torch.as_tensor(vy, dtype=torch.float32)) if spec.kind == "regression" else torch.as_tensor(vy, dtype=torch.float32)
            vo = torch.as_tensor(vout if spec.kind == "binary" else (vout - np.asarray(scaler.mean)) / np.asarray(scaler.std), dtype=torch.float32)
            val_loss = float(task_loss(spec, vo, vz, 0.0, margin_z)[0]) if len(vy) else float("nan")
            improved = bool(np.isfinite(score) and score < state["best_score"])
            if improved:
                state.update(best_score=score, best_epoch=epoch, bad_epochs=0)
                state["best_checkpoint"] = {"model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                                            "epoch": epoch, "val_score": score, "fingerprint": run_fingerprint}
                _save_torch(best_path, state["best_checkpoint"])
            else:
                state["bad_epochs"] += 1
            rec = {"epoch": epoch, "lr": lr_now, "train_loss": sums["loss"] / max(nb, 1), "train_mse": sums["mse"] / max(nb, 1),
                   "train_ranking": sums["ranking"] / max(nb, 1), "val_loss": val_loss, "val_score": score, "best": int(improved),
                   "seconds": round(time.perf_counter() - t0, 3)}
            state["history"].append(rec)
            for k in ("train_loss", "train_mse", "train_ranking", "val_loss", "val_score", "lr"):
                tb.add_scalar(k, rec[k], epoch)
            log.info("%s epoch %d/%d train_loss %.4f val_score %.4f%s", spec.name, epoch, epochs, rec["train_loss"], score, " *" if improved else "")
            state["epoch"] = epoch
            if int(cfg["patience"]) > 0 and state["bad_epochs"] >= int(cfg["patience"]):
                state["stopped_early"] = True
            _write_history(out_dir / "history.csv", state["history"])
            _save_torch(last_path, {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict() if sched else None,
                                    "amp_scaler": amp_scaler.state_dict(), "torch_rng": torch.get_rng_state(),
                                    "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
                                    "state": state, "fingerprint": run_fingerprint})
            if stop_after_epoch is not None and epoch >= stop_after_epoch:
                raise TrainingInterrupted(f"stopped after epoch {epoch} (stop_after_epoch)")
    finally:
        tb.close()
    if not best_path.is_file() and state.get("best_checkpoint"):
        _save_torch(best_path, state["best_checkpoint"])  # e.g. removed by Snakemake after an interrupted job
    if not best_path.is_file():
        raise RuntimeError(f"{out_dir}: no epoch produced a finite validation score; no checkpoint to evaluate")
    seconds = time.perf_counter() - t_start
    return {"epochs_run": state["epoch"], "best_epoch": state["best_epoch"], "best_val_score": state["best_score"],
            "stopped_early": state["stopped_early"], "train_seconds_this_call": round(seconds, 3),
            "train_patches_per_s_this_call": round(n_seen / seconds, 2) if seconds > 0 and n_seen else None}


def load_best(model: torch.nn.Module, out_dir: Path, device: torch.device) -> int:
    """Load ``checkpoint.pt`` into ``model``; returns its epoch."""
    ck = torch.load(out_dir / "checkpoint.pt", map_location=device, weights_only=False)
    model.load_state_dict(ck["model"])
    return int(ck["epoch"])


DatasetFactory = Callable[[str, bool], Dataset]


def _patch_dataset_factory(dataset_dir: Path, task: str, cfg: dict[str, Any], seed: int) -> DatasetFactory:
    from quakesar.dataset.torchdata import PatchDataset

    index_csv, norm = dataset_dir / "index.csv", dataset_dir / "norm_stats.json"
    for p in (index_csv, norm):
        if not p.is_file():
            raise FileNotFoundError(f"dataset file {p} does not exist (run the dataset stage first)")

    def make(split: str, augment: bool) -> Dataset:
        return PatchDataset(index_csv, split, [task], norm, augment=augment, latlon_planes=bool(cfg["latlon_planes"]),
                            seed=derived_seed(seed, "augment"))

    return make


def train_run(dataset_dir: Path, task: str, model: str, cfg: dict, seed: int, out_dir: Path, ranking_lambda: float | None = None,
              threads: int = 1, *, stop_after_epoch: int | None = None, dataset_factory: DatasetFactory | None = None,
              progress: bool = True, make_figures: bool = True) -> dict:
    """Train, select on validation, evaluate on test and write the run directory; returns metrics.json's content.

    ``cfg`` is the config's ``train`` section (defaults are filled in here). ``ranking_lambda``
    overrides ``cfg["ranking_lambda"]`` (the ablation); it only affects the magnitude task.
    ``dataset_factory(split, augment)`` replaces :class:`quakesar.dataset.torchdata.PatchDataset`
    (tests); ``stop_after_epoch`` simulates an interruption (tests); ``make_figures=False`` skips the PNGs.
    """
    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    cfg = train_config(cfg)
    spec = get_task(task)
    lam = float(cfg["ranking_lambda"] if ranking_lambda is None else ranking_lambda) if task == "magnitude" else 0.0
    torch.set_num_threads(max(int(threads), 1))
    device = resolve_device(cfg["device"])
    index_csv = dataset_dir / "index.csv"
    if not index_csv.is_file():
        raise FileNotFoundError(f"dataset index {index_csv} does not exist (run the dataset stage first)")
    from quakesar.dataset.torchdata import read_index

    index = read_index(index_csv)
    scaler = TargetScaler.fit(index, spec, index_csv)
    factory = dataset_factory or _patch_dataset_factory(dataset_dir, task, cfg, seed)
    train_ds, val_ds, test_ds = factory("train", bool(cfg["augment"])), factory("val", False), factory("test", False)
    for name, ds in (("train", train_ds), ("val", val_ds), ("test", test_ds)):
        if len(ds) == 0:  # type: ignore[arg-type]
            raise ValueError(f"{index_csv}: the {name} split holds no patch usable for task {task!r}")
    x0 = _unpack(torch.utils.data.default_collate([train_ds[0]]))[0]
    in_chans, img_size = int(x0.shape[1]), int(max(x0.shape[-2:]))
    seed_everything(derived_seed(seed, "init", task, model))
    net = build_model(model, in_chans, spec.num_outputs, img_size, cfg["pretrained"].get(model))
    settings = {"task": task, "model": model, "seed": seed, "ranking_lambda": lam, "in_chans": in_chans, "img_size": img_size,
                "train": {k: v for k, v in cfg.items() if k not in ("device", "num_workers", "threads", "tasks", "models", "seeds", "bootstrap")}}
    fp = fingerprint(settings)
    summary = fit(net, spec, train_ds, val_ds, scaler, cfg, seed, out_dir, lam, device, fp, stop_after_epoch, progress)
    load_best(net, out_dir, device)
    test_loader = make_loader(test_ds, int(cfg["batch_size"]), False, int(cfg["num_workers"]), seed, 0)
    rows, out, _ = evaluate_loader(net, test_loader, spec, scaler, device, bool(cfg["amp"]) and device.type == "cuda")
    pred = build_predictions(index, rows, out, spec)
    with atomic_path(out_dir / "predictions.csv") as tmp:
        pred.to_csv(tmp, index=False, float_format="%.6g")
    metrics = {"task": task, "model": model, "seed": seed, "ranking_lambda": lam, "ranking_margin": float(cfg["ranking_margin"]),
               "device": device.type, "in_chans": in_chans, "img_size": img_size, "target_scaler": scaler.to_dict(),
               "n_train": len(train_ds), "n_val": len(val_ds), "n_test": len(test_ds),  # type: ignore[arg-type]
               "fingerprint": fp, "config": cfg, **summary,
               **evaluate_predictions(pred, spec, index, int(cfg["bootstrap"]), seed)}
    from quakesar.learning.plots import plot_run

    metrics["figures"] = plot_run(pred, spec.name, out_dir, pd.read_csv(out_dir / "history.csv"), seed) if make_figures else []
    write_json(out_dir / "metrics.json", _finite(metrics))
    return json.loads(dumps_json(_finite(metrics)))


def _finite(obj: Any) -> Any:
    """Replace NaN/inf floats by None so that metrics.json is strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
