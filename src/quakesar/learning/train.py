"""Training of the gated multi-task patch model: ``results/models/gated/{model}/{run}/``.

Data (:mod:`quakesar.learning.data`): training patches are the full pipeline's train split plus the
training-data tier; validation and test patches are the full pipeline's val and test events only,
all their patches. Each epoch draws every signal-bearing training patch and
``train.negatives_per_positive`` times as many others (:func:`quakesar.learning.data.epoch_items`).

Loss (:mod:`quakesar.learning.tasks`): ``w_det BCE + w_epi (L1(uv) + Laplace NLL of the scale) + w_mag (MSE + Gaussian NLL of the std + lambda MR)``, the
last two on signal-bearing patches only, the ranking pairs between different events.

Design:

* **Seeds**: initial weights from ``derived_seed(seed, "init", model)`` (independent of lambda, so the
  ranking ablation's twins start identical), epoch ``e``'s negatives, order and augmentation draws from
  ``derived_seed(seed, purpose, e)`` (:mod:`quakesar.rng`). Same settings and data: same weights.
* **Optimisation**: AdamW (Loshchilov & Hutter 2019), scheduler ``cosine`` | ``exponential`` (gamma 0.95) |
  ``onecycle`` (Smith & Topin 2019, per batch) | ``none``; automatic mixed precision only on CUDA
  (``train.amp``, float16 autocast + gradient scaling).
* **Model selection on the validation event metric** (:func:`quakesar.learning.evaluate.validation_score`)
  after every epoch: the best epoch is ``checkpoint.pt``; the test events are answered with it, never with
  the last epoch. Early stopping after ``train.patience`` epochs without improvement (0: off).
* **Resume**: ``last.pt`` (model, optimiser, scheduler, AMP scaler, epoch, best score and weights,
  patience counter, history, RNG state, and a fingerprint of the settings *and the data*) after every
  epoch. A re-run with the same fingerprint continues after the last completed epoch and ends with the
  weights of an uninterrupted run; with another fingerprint (a catalog update, a new training tier,
  other settings) it starts afresh. Every output is rewritten either way.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from quakesar.atomic import atomic_path, clean_stale_parts, dumps_json, write_json, write_text
from quakesar.learning.data import (INPUT_CHANNELS, InputNorm, PatchArrays, arrays, augment_batch, data_fingerprint, epoch_items,
                                    load_table, model_input)
from quakesar.learning.evaluate import (answer, evaluate, event_table, events_csv_frame, patch_predictions, validation_score)
from quakesar.learning.models import PatchNet
from quakesar.learning.tasks import Bootstrap, LossContext, Task, get_tasks
from quakesar.rng import derived_seed, event_rng

log = logging.getLogger("quakesar.learning.train")

HISTORY_FIELDS = ("epoch", "lr", "train_loss", "bce", "offset", "mse", "ranking", "val_score", "best", "items", "seconds")
ESTIMATOR = "gated"


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


def fingerprint(obj: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the settings (and data fingerprint) that define a run."""
    return hashlib.sha256(dumps_json(obj).encode()).hexdigest()


def _save_torch(path: Path, obj: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def _write_history(path: Path, history: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(history)
    write_text(path, buf.getvalue())


@dataclass
class RunData:
    """The three splits of a run in memory, the training prior and the data fingerprint."""

    train: PatchArrays
    val: PatchArrays
    test: PatchArrays
    prior: dict[str, Any]
    fingerprint: str
    files: list[str]


def training_prior(train: pd.DataFrame) -> dict[str, Any]:
    """Statistics of the training events used by the baselines, the fallback and the target scaling."""
    ev = train.groupby("event_id").agg(mw=("mw", "first"), snr=("snr", "max"))
    sig = train[train["signal"] == 1]
    if sig.empty:
        raise ValueError("the training data hold no signal-bearing patch (signal == 1): nothing to learn the "
                         "epicentre or the magnitude from; check patches.window, simulate settings and the catalog")
    det = ev[ev["snr"] >= 3.0]   # magnitude scaling over detectable *events*, not over their (size-biased) patches
    sd = float(det["mw"].std()) if len(det) > 1 else 1.0
    return {"mw_mean": float(ev["mw"].mean()), "mw_std_events": float(ev["mw"].std()), "n_events": int(len(ev)),
            "detectable_fraction": float((ev["snr"] >= 3.0).mean()), "signal_patches": int(len(sig)),
            "signal_mw_mean": float(det["mw"].mean()), "signal_mw_std": sd if sd > 1e-6 else 1.0,
            "signal_distance_mean_km": float(sig["distance_km"].mean()) if "distance_km" in sig else float("nan")}


def load_run_data(dataset_dir: Path, trainingset_index: Path | None) -> RunData:
    """Read both indexes, check the splits, load every split's pixels (float16)."""
    table = load_table(dataset_dir, trainingset_index)
    splits = {s: table[table["split"] == s] for s in ("train", "val", "test")}
    for s, t in splits.items():
        if t.empty:
            raise ValueError(f"{dataset_dir / 'index.csv'}: the {s} split holds no patch")
    leak = set(splits["train"]["event_id"]) & (set(splits["val"]["event_id"]) | set(splits["test"]["event_id"]))
    if leak:
        raise ValueError(f"events {sorted(leak)[:3]} are both in training and in val/test: refusing a leaking run")
    files = [str(Path(dataset_dir) / "index.csv")] + ([str(trainingset_index)] if trainingset_index else [])
    return RunData(arrays(splits["train"]), arrays(splits["val"]), arrays(splits["test"]), training_prior(splits["train"]),
                   data_fingerprint(files, table), files)


def predict(model: PatchNet, data: PatchArrays, norm: InputNorm, device: torch.device, batch_size: int = 512,
            amp: bool = False) -> dict[str, np.ndarray]:
    """Model outputs (logit, uv, mw standardised, emb) for every row of ``data``, in order."""
    model.eval()
    outs: dict[str, list[np.ndarray]] = {"logit": [], "uv": [], "log_b": [], "mw": [], "log_s": [], "emb": []}
    with torch.no_grad():
        for start in range(0, len(data), batch_size):
            b = data.batch(np.arange(start, min(start + batch_size, len(data))))
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp):
                o = model(model_input(b["raw"], norm).to(device), b["aux"].to(device))
            for k in outs:
                outs[k].append(o[k].float().cpu().numpy())
    return {k: (np.concatenate(v) if v else np.zeros((0,))) for k, v in outs.items()}


def _make_scheduler(name: str, opt: torch.optim.Optimizer, epochs: int, steps_per_epoch: int, lr: float):
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    if name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(epochs * max(steps_per_epoch, 1), 2))
    return None


def _val_events(model: PatchNet, data: RunData, norm: InputNorm, ctx: LossContext, tasks: list[Task], cfg: dict[str, Any],
                device: torch.device, amp: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = predict(model, data.val, norm, device, amp=amp)
    preds = patch_predictions(data.val.table, out, tasks, ctx)
    return preds, event_table(preds, tasks, float(cfg["weight_power"]), data.prior)


def fit(model: PatchNet, data: RunData, norm: InputNorm, ctx: LossContext, tasks: list[Task], cfg: dict[str, Any], seed: int,
        out_dir: Path, device: torch.device, run_fingerprint: str, stop_after_epoch: int | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Train with checkpointing, selection on the validation event metric, early stopping and resume."""
    from tqdm.auto import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    use_amp = bool(cfg["amp"]) and device.type == "cuda"
    epochs, bs = int(cfg["epochs"]), int(cfg["batch_size"])
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    n_pos = len(epoch_items(data.train.signal, np.random.default_rng(0), 0.0, None, data.train.event_code, cfg["positives_per_event"]))
    per_epoch = n_pos + int(round(float(cfg["negatives_per_positive"]) * max(n_pos, 1)))
    if cfg["max_patches_per_epoch"]:
        per_epoch = min(per_epoch, int(cfg["max_patches_per_epoch"]))
    sched = _make_scheduler(cfg["scheduler"], opt, epochs, -(-per_epoch // bs), float(cfg["lr"]))
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    state: dict[str, Any] = {"epoch": 0, "best_score": float("inf"), "best_epoch": 0, "bad_epochs": 0, "history": [],
                             "stopped_early": False}
    last_path, best_path = out_dir / "last.pt", out_dir / "checkpoint.pt"
    clean_stale_parts([last_path, best_path])  # a killed job's half-written checkpoints (issue 17.4)
    if last_path.is_file():
        ck = torch.load(last_path, map_location=device, weights_only=False)
        if ck.get("fingerprint") == run_fingerprint:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None and ck.get("scheduler") is not None:
                sched.load_state_dict(ck["scheduler"])
            if use_amp and ck.get("amp_scaler"):
                scaler.load_state_dict(ck["amp_scaler"])
            torch.set_rng_state(ck["torch_rng"])
            state = ck["state"]
            log.info("resuming %s after epoch %d (same settings and data)", out_dir, state["epoch"])
        else:
            log.warning("%s: last.pt belongs to other settings or other data; training from scratch", last_path)
    t_start, n_seen = time.perf_counter(), 0
    weights = ctx.weights
    try:
        while state["epoch"] < epochs and not state["stopped_early"]:
            epoch = state["epoch"] + 1
            t0 = time.perf_counter()
            items = epoch_items(data.train.signal, event_rng(seed, "train", f"negatives/{epoch}"),
                                float(cfg["negatives_per_positive"]), cfg["max_patches_per_epoch"], data.train.event_code,
                                cfg["positives_per_event"])
            draws = (event_rng(seed, "train", f"augment/{epoch}").integers(0, 8, size=len(items)) if cfg["augment"]
                     else np.zeros(len(items), np.int64))
            model.train()
            sums: dict[str, float] = {"loss": 0.0, "bce": 0.0, "offset": 0.0, "mse": 0.0, "ranking": 0.0}
            nb = 0
            starts = list(range(0, len(items), bs))
            if len(starts) > 1 and len(items) - starts[-1] == 1:
                starts = starts[:-1]  # a last batch of one cannot be batch-normalised
            for s0 in tqdm(starts, desc=f"gated epoch {epoch}/{epochs}", leave=False, disable=not progress, mininterval=2.0):
                idx = items[s0:s0 + bs]
                b = data.train.batch(idx)
                x = model_input(b["raw"], norm)
                x, b["uv"] = augment_batch(x, b["uv"], draws[s0:s0 + bs])
                b = {k: v.to(device, non_blocking=True) for k, v in b.items()}
                with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                    out = model(x.to(device), b["aux"])
                loss = torch.zeros((), device=device)
                for t in tasks:
                    part, logs = t.patch_loss(out, b, ctx)
                    if part is not None:
                        loss = loss + float(weights.get(t.name, 1.0)) * part
                        for k, v in logs.items():
                            sums[k] = sums.get(k, 0.0) + v
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                if sched is not None and cfg["scheduler"] == "onecycle":
                    sched.step()
                sums["loss"] += float(loss.detach())
                nb += 1
                n_seen += len(idx)
            lr_now = opt.param_groups[0]["lr"]
            if sched is not None and cfg["scheduler"] != "onecycle":
                sched.step()
            _, val_ev = _val_events(model, data, norm, ctx, tasks, cfg, device, use_amp)
            score = validation_score(val_ev)
            improved = bool(np.isfinite(score) and score < state["best_score"])
            if improved:
                state.update(best_score=score, best_epoch=epoch, bad_epochs=0)
                state["best_checkpoint"] = {"model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                                            "epoch": epoch, "val_score": score}
            else:
                state["bad_epochs"] += 1
            rec = {"epoch": epoch, "lr": lr_now, "train_loss": sums["loss"] / max(nb, 1),
                   **{k: sums.get(k, 0.0) / max(nb, 1) for k in ("bce", "offset", "mse", "ranking")},
                   "val_score": score, "best": int(improved), "items": int(len(items)), "seconds": round(time.perf_counter() - t0, 3)}
            state["history"].append(rec)
            log.info("gated epoch %d/%d loss %.4f val_score %.4f%s (%d items, %.1f s)", epoch, epochs, rec["train_loss"], score,
                     " *" if improved else "", len(items), rec["seconds"])
            state["epoch"] = epoch
            if int(cfg["patience"]) > 0 and state["bad_epochs"] >= int(cfg["patience"]):
                state["stopped_early"] = True
            _save_torch(last_path, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                    "scheduler": sched.state_dict() if sched else None, "amp_scaler": scaler.state_dict(),
                                    "torch_rng": torch.get_rng_state(), "state": state, "fingerprint": run_fingerprint})
            if stop_after_epoch is not None and epoch >= stop_after_epoch:
                raise TrainingInterrupted(f"stopped after epoch {epoch} (stop_after_epoch)")
    finally:
        _write_history(out_dir / "history.csv", state["history"])
    if not state.get("best_checkpoint"):
        raise RuntimeError(f"{out_dir}: no epoch produced a finite validation score; no checkpoint to evaluate")
    seconds = time.perf_counter() - t_start
    return {"state": state, "epochs_run": state["epoch"], "best_epoch": state["best_epoch"], "best_val_score": state["best_score"],
            "stopped_early": state["stopped_early"], "train_seconds_this_call": round(seconds, 3),
            "train_patches_per_s_this_call": round(n_seen / seconds, 2) if seconds > 0 and n_seen else None}


def run_settings(model_name: str, cfg: dict[str, Any], seed: int, lam: float) -> dict[str, Any]:
    """The settings that define a gated run's result (the resume fingerprint and metrics.json)."""
    keep = {k: v for k, v in cfg.items() if k not in ("device", "num_workers", "threads", "models", "seeds", "bootstrap", "estimators",
                                                      "set", "tasks")}
    return {"estimator": ESTIMATOR, "model": model_name, "seed": seed, "ranking_lambda": lam, "tasks": list(cfg["tasks"]),
            "train": keep, "input_channels": list(INPUT_CHANNELS)}


def train_run(dataset_dir: Path, model_name: str, cfg: dict, seed: int, out_dir: Path, ranking_lambda: float | None = None,
              trainingset_index: Path | None = None, threads: int = 1, *, stop_after_epoch: int | None = None,
              progress: bool = True, make_figures: bool = True, data: RunData | None = None) -> dict:
    """Train the gated model, select on validation events, answer the test events; write the run directory.

    Writes ``checkpoint.pt`` (best epoch, with everything needed to predict: :func:`load_gated`),
    ``last.pt``, ``history.csv``, ``predictions.csv`` (test patches), ``events.csv`` (test events, the
    answers), ``val_events.csv``, ``metrics.json`` and figures. Returns metrics.json's content.
    """
    dataset_dir, out_dir = Path(dataset_dir), Path(out_dir)
    cfg = train_config(cfg)
    tasks = get_tasks(list(cfg["tasks"]))
    lam = float(cfg["ranking_lambda"] if ranking_lambda is None else ranking_lambda)
    torch.set_num_threads(max(int(threads), 1))
    device = resolve_device(cfg["device"])
    t_load = time.perf_counter()
    data = data or load_run_data(dataset_dir, Path(trainingset_index) if trainingset_index else None)
    load_seconds = time.perf_counter() - t_load
    norm = InputNorm.fit(data.train.pixels)
    prior = data.prior
    ctx = LossContext(prior["signal_mw_mean"], prior["signal_mw_std"], lam, float(cfg["ranking_margin"]), dict(cfg["loss_weights"]))
    img_size = int(data.train.pixels.shape[-1])
    seed_everything(derived_seed(seed, "init", model_name))
    net = PatchNet(model_name, len(INPUT_CHANNELS), img_size, aux_dim=1, hidden=int(cfg["hidden"]),
                   pretrained_path=cfg["pretrained"].get(model_name))
    settings = run_settings(model_name, cfg, seed, lam)
    fp = fingerprint({**settings, "data": data.fingerprint})
    summary = fit(net, data, norm, ctx, tasks, cfg, seed, out_dir, device, fp, stop_after_epoch, progress)
    state = summary.pop("state")
    meta = {"estimator": ESTIMATOR, "backbone": model_name, "img_size": img_size, "in_chans": len(INPUT_CHANNELS), "aux_dim": 1,
            "hidden": int(cfg["hidden"]), "norm": norm.as_dict(), "mw_mean": ctx.mw_mean, "mw_std": ctx.mw_std,
            "tasks": list(cfg["tasks"]), "weight_power": float(cfg["weight_power"]), "prior": prior,
            "epoch": state["best_epoch"], "fingerprint": fp}
    net.load_state_dict(state["best_checkpoint"]["model"])
    amp = bool(cfg["amp"]) and device.type == "cuda"
    val_preds, val_raw = _val_events(net, data, norm, ctx, tasks, cfg, device, amp)
    test_out = predict(net, data.test, norm, device, amp=amp)
    test_preds = patch_predictions(data.test.table, test_out, tasks, ctx)
    test_raw = event_table(test_preds, tasks, float(cfg["weight_power"]), prior)
    val_ev, test_ev, calib = answer(val_raw, test_raw, magnitude_fallback="prior")
    meta["calibration"] = calib
    _save_torch(out_dir / "checkpoint.pt", {"model": state["best_checkpoint"]["model"], "meta": meta, "epoch": state["best_epoch"]})
    boot = Bootstrap(int(cfg["bootstrap"]), seed)
    metrics = {"estimator": ESTIMATOR, "model": model_name, "seed": seed, "ranking_lambda": lam,
               "ranking_margin": float(cfg["ranking_margin"]), "device": device.type, "img_size": img_size,
               "n_train_patches": len(data.train), "n_train_events": prior["n_events"],
               "n_train_trainingset_patches": int((data.train.table["origin"] == "trainingset").sum()),
               "n_val_events": int(val_raw["event_id"].nunique()), "n_test_events": int(test_raw["event_id"].nunique()),
               "prior": prior, "fingerprint": fp, "data_fingerprint": data.fingerprint, "data_files": data.files, "config": cfg,
               "load_seconds": round(load_seconds, 3), **summary, **calib,
               "test": evaluate(test_ev, test_preds, tasks, boot, prior),
               "val": {"score": validation_score(val_raw), "n_events": int(len(val_ev))}}
    write_outputs(out_dir, metrics, test_preds, test_ev, val_ev, make_figures, seed)
    return json.loads(dumps_json(_finite(metrics)))


def write_outputs(out_dir: Path, metrics: dict[str, Any], test_preds: pd.DataFrame, test_ev: pd.DataFrame, val_ev: pd.DataFrame,
                  make_figures: bool, seed: int) -> None:
    """predictions.csv, events.csv, val_events.csv, figures and metrics.json (last) of a run directory."""
    with atomic_path(out_dir / "predictions.csv") as tmp:
        test_preds.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(out_dir / "events.csv") as tmp:
        events_csv_frame(test_ev).to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(out_dir / "val_events.csv") as tmp:
        events_csv_frame(val_ev).to_csv(tmp, index=False, float_format="%.6g")
    from quakesar.learning.plots import plot_run

    history = pd.read_csv(out_dir / "history.csv") if (out_dir / "history.csv").is_file() else pd.DataFrame()
    metrics["figures"] = plot_run(test_preds, test_ev, out_dir, history, seed) if make_figures else []
    write_json(out_dir / "metrics.json", _finite(metrics))


def load_gated(checkpoint: Path, device: torch.device | str = "cpu") -> tuple[PatchNet, dict[str, Any]]:
    """Rebuild a trained gated model and its metadata (norm, target scaling, calibration) from ``checkpoint.pt``."""
    try:
        ck = torch.load(checkpoint, map_location=device, weights_only=False)
    except (OSError, RuntimeError) as exc:
        raise OSError(f"{checkpoint}: cannot read the model checkpoint ({exc})") from exc
    meta = ck.get("meta")
    if not meta or meta.get("estimator") != ESTIMATOR:
        raise ValueError(f"{checkpoint}: not a gated-model checkpoint of this version (no 'meta' with estimator 'gated')")
    net = PatchNet(meta["backbone"], int(meta["in_chans"]), int(meta["img_size"]), int(meta["aux_dim"]), int(meta["hidden"]))
    net.load_state_dict(ck["model"])
    net.eval()
    return net.to(device), meta


def _finite(obj: Any) -> Any:
    """Replace NaN/inf floats by None so that metrics.json is strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, (np.integer, np.bool_)):
        return int(obj)
    return obj


__all__ = ["train_run", "train_config", "load_gated", "predict", "load_run_data", "RunData", "TrainingInterrupted", "write_outputs"]
