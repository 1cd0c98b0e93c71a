"""The event-set model: attention pooling over all of an event's patches -> one event answer.

Multiple-instance learning with gated attention (Ilse, Tomczak & Welling 2018, "Attention-based deep
multiple instance learning"): an event is a bag of patches; each patch ``i`` is described by the frozen
gated patch model's outputs (:mod:`quakesar.learning.train`: its embedding, detection logit, image-frame
offset, standardised magnitude) and by its *position* — the patch centre and the patch's predicted
epicentre as east/north offsets (per 100 km) from the event's reference point (the patch-centre
baseline), plus the incidence feature. Per patch ``h_i = phi(f_i)``; attention
``a_i = softmax_i(w^T (tanh(V h_i) * sigmoid(U h_i)))``; pooled ``z = sum_i a_i h_i``; heads on ``z``:

* detectability logit (trained on the truth flag of every event);
* moment magnitude (every event, so that "no visible signal" can pull the answer towards small or deep
  sources instead of the prior; MSE + lambda x margin ranking between the events of a batch);
* epicentre: ``sum_i a_i e_i + delta(z)`` with ``e_i`` the patches' predicted epicentres: the model
  learns which patches to trust and a correction (smooth L1 on truth-detectable events only).

Training events: the full pipeline's train split and up to ``train.set.max_train_events`` events of the
training-data tier (a seeded choice); model selection on the validation events' score
(:func:`quakesar.learning.evaluate.validation_score`); the test events answered by the best epoch. Run
directory ``results/models/set/{model}/{run}/`` with the same files as a gated run.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from quakesar.atomic import dumps_json
from quakesar.geodesy import east_north_offset_m, offset_to_latlon
from quakesar.learning.data import InputNorm, arrays, load_table
from quakesar.learning.evaluate import answer, baseline_answer, evaluate, event_truth, patch_predictions, validation_score
from quakesar.learning.losses import magnitude_loss
from quakesar.learning.tasks import Bootstrap, LossContext, get_tasks
from quakesar.learning.train import (_finite, _save_torch, _write_history, fingerprint, load_gated, predict, resolve_device,
                                     seed_everything, train_config, write_outputs)
from quakesar.rng import derived_seed, event_rng

log = logging.getLogger("quakesar.learning.setmodel")
ESTIMATOR = "set"
POSITION_SCALE_KM = 100.0
EPICENTRE_SCALE_KM = 10.0


class EventSetNet(nn.Module):
    """Gated-attention MIL over a padded bag ``f [B, P, D]`` with ``mask [B, P]`` (module docstring)."""

    def __init__(self, in_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden), nn.ReLU(inplace=True))
        self.att_v, self.att_u, self.att_w = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 1)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(inplace=True))
        self.detect, self.magnitude, self.delta = nn.Linear(hidden, 1), nn.Linear(hidden, 1), nn.Linear(hidden, 2)

    def forward(self, f: torch.Tensor, mask: torch.Tensor, patch_en: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.phi(f)
        s = self.att_w(torch.tanh(self.att_v(h)) * torch.sigmoid(self.att_u(h)))[..., 0]
        s = s.masked_fill(~mask, float("-inf"))
        a = torch.softmax(s, dim=1)
        z = self.head((a[..., None] * h).sum(dim=1))
        en = (a[..., None] * patch_en).sum(dim=1) + 0.1 * self.delta(z)
        return {"logit": self.detect(z)[:, 0], "mw": self.magnitude(z)[:, 0], "en": en, "attention": a}


@dataclass
class Bags:
    """Padded per-event feature bags and their truth (one entry per event)."""

    event_ids: list[str]
    features: torch.Tensor     # [E, P, D]
    mask: torch.Tensor         # [E, P]
    patch_en: torch.Tensor     # [E, P, 2] predicted epicentres, per 100 km from the reference
    ref: np.ndarray            # [E, 2] reference lat/lon
    truth_en: torch.Tensor     # [E, 2] true epicentre per 100 km from the reference
    detectable: torch.Tensor   # [E]
    mw: torch.Tensor           # [E]
    rows: list[np.ndarray]     # patch row numbers (into the predictions table) per event


def patch_features(preds: pd.DataFrame, out: dict[str, np.ndarray], mw_scale: tuple[float, float]) -> np.ndarray:
    """Per-patch features without positions: embedding, logit, (u, v), standardised Mw, incidence."""
    inc = np.nan_to_num((preds["incidence_deg"].to_numpy(float) - 39.0) / 5.0) if "incidence_deg" in preds else np.zeros(len(preds))
    mwz = (preds["pred_mw"].to_numpy(float) - mw_scale[0]) / mw_scale[1]
    return np.concatenate([out["emb"], out["logit"][:, None], out["uv"], mwz[:, None], inc[:, None]], axis=1).astype(np.float32)


def make_bags(preds: pd.DataFrame, base: np.ndarray, prior: dict[str, Any]) -> Bags:
    """Group patch rows by event into padded bags with positions relative to each event's reference."""
    groups = list(preds.groupby("event_id", sort=True).indices.items())
    p_max = max((len(ix) for _, ix in groups), default=1)
    d = base.shape[1] + 4
    e_n = len(groups)
    feats, mask = np.zeros((e_n, p_max, d), np.float32), np.zeros((e_n, p_max), bool)
    pen, ten = np.zeros((e_n, p_max, 2), np.float32), np.zeros((e_n, 2), np.float32)
    ref, det, mw, rows = np.zeros((e_n, 2)), np.zeros(e_n, np.float32), np.zeros(e_n, np.float32), []
    for k, (eid, ix) in enumerate(groups):
        g = preds.iloc[ix]
        b = baseline_answer(g, prior)
        lat0, lon0 = b["baseline_lat"], b["baseline_lon"]
        ref[k] = lat0, lon0
        ce, cn = east_north_offset_m(lat0, lon0, g["center_lat"].to_numpy(float), g["center_lon"].to_numpy(float))
        pe, pn = east_north_offset_m(lat0, lon0, g["pred_epicenter_lat"].to_numpy(float), g["pred_epicenter_lon"].to_numpy(float))
        scale = 1000.0 * POSITION_SCALE_KM
        feats[k, :len(ix)] = np.concatenate([base[ix], np.stack([ce, cn, pe, pn], axis=1) / scale], axis=1)
        pen[k, :len(ix)] = np.stack([pe, pn], axis=1) / scale
        mask[k, :len(ix)] = True
        t = event_truth(g)
        te, tn = east_north_offset_m(lat0, lon0, t["true_lat"], t["true_lon"])
        ten[k] = float(te) / scale, float(tn) / scale
        det[k], mw[k] = t["truth_detectable"], t["true_magnitude"]
        rows.append(np.asarray(ix))
    return Bags([g for g, _ in groups], torch.from_numpy(feats), torch.from_numpy(mask), torch.from_numpy(pen), ref,
                torch.from_numpy(np.nan_to_num(ten)), torch.from_numpy(det), torch.from_numpy(mw), rows)


def _bag_loss(out: dict[str, torch.Tensor], bags: Bags, idx: np.ndarray, ctx: LossContext) -> torch.Tensor:
    det = bags.detectable[idx]
    loss = F.binary_cross_entropy_with_logits(out["logit"], det)
    z = (bags.mw[idx] - ctx.mw_mean) / ctx.mw_std
    mag, _ = magnitude_loss(out["mw"], z, ctx.ranking_lambda, ctx.margin_z)
    loss = loss + mag
    sel = det > 0.5
    if bool(sel.any()):
        scale = EPICENTRE_SCALE_KM / POSITION_SCALE_KM
        loss = loss + F.smooth_l1_loss(out["en"][sel] / scale, bags.truth_en[idx][sel] / scale, beta=0.1)
    return loss


def bag_events(model: EventSetNet, bags: Bags, ctx: LossContext, prior: dict[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    """The raw event table of the set model on ``bags`` (and the attention of every patch row)."""
    model.eval()
    with torch.no_grad():
        out = model(bags.features, bags.mask, bags.patch_en)
    en = out["en"].numpy().astype(float) * 1000.0 * POSITION_SCALE_KM
    la, lo = offset_to_latlon(bags.ref[:, 0], bags.ref[:, 1], en[:, 0], en[:, 1])
    p = torch.sigmoid(out["logit"]).numpy()
    mw = out["mw"].numpy() * ctx.mw_std + ctx.mw_mean
    att = out["attention"].numpy()
    return pd.DataFrame({"event_id": bags.event_ids, "p_detectable_raw": p, "model_lat": la, "model_lon": lo,
                         "model_magnitude": mw, "weight_max": att.max(axis=1)}), att


def _table_events(preds: pd.DataFrame, raw: pd.DataFrame, prior: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for eid, g in preds.groupby("event_id", sort=True):
        rows.append({"event_id": eid, "n_patches": len(g), **baseline_answer(g, prior), **event_truth(g)})
    return raw.merge(pd.DataFrame(rows), on="event_id")


def train_set_run(gated_dir: Path, dataset_dir: Path, model_name: str, cfg: dict, seed: int, out_dir: Path,
                  trainingset_index: Path | None = None, threads: int = 1, progress: bool = True, make_figures: bool = True) -> dict:
    """Train the event-set model on the frozen gated model of ``gated_dir``; write the run directory."""
    from tqdm.auto import tqdm

    out_dir, gated_dir = Path(out_dir), Path(gated_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = train_config(cfg)
    scfg = cfg["set"]
    torch.set_num_threads(max(int(threads), 1))
    device = resolve_device(cfg["device"])
    net, meta = load_gated(gated_dir / "checkpoint.pt", device)
    prior = meta["prior"]
    tasks = get_tasks(list(meta["tasks"]))
    norm = InputNorm(**meta["norm"])
    gctx = LossContext(meta["mw_mean"], meta["mw_std"])
    table = load_table(dataset_dir, trainingset_index)
    train = table[table["split"] == "train"]
    ts_events = sorted(train.loc[train["origin"] == "trainingset", "event_id"].unique())
    cap = scfg["max_train_events"]
    if cap is not None and len(ts_events) > cap:
        ts_events = sorted(event_rng(seed, "set", "train-events").choice(ts_events, size=int(cap), replace=False))
    train = train[(train["origin"] == "pipeline") | train["event_id"].isin(set(ts_events))]
    t0 = time.perf_counter()
    bags: dict[str, Bags] = {}
    preds_by_split: dict[str, pd.DataFrame] = {}
    for split, t in (("train", train), ("val", table[table["split"] == "val"]), ("test", table[table["split"] == "test"])):
        arr = arrays(t)
        out = predict(net, arr, norm, device)
        preds = patch_predictions(arr.table, out, tasks, gctx)
        preds_by_split[split] = preds
        bags[split] = make_bags(preds, patch_features(preds, out, (gctx.mw_mean, gctx.mw_std)), prior)
    feature_seconds = time.perf_counter() - t0
    lam = float(cfg["ranking_lambda"])
    ctx = LossContext(prior["mw_mean"], max(prior["mw_std_events"], 0.1), lam, float(cfg["ranking_margin"]))
    seed_everything(derived_seed(seed, "init", "set", model_name))
    model = EventSetNet(bags["train"].features.shape[-1], int(scfg["hidden"]))
    opt = torch.optim.AdamW(model.parameters(), lr=float(scfg["lr"]), weight_decay=float(cfg["weight_decay"]))
    settings = {"estimator": ESTIMATOR, "model": model_name, "seed": seed, "gated": meta["fingerprint"], "set": scfg,
                "ranking_lambda": lam, "train_events": len(bags["train"].event_ids)}
    fp = fingerprint(settings)
    best, best_score, bad, history = None, float("inf"), 0, []
    n_train, bs = len(bags["train"].event_ids), int(scfg["batch_events"])
    for epoch in range(1, int(scfg["epochs"]) + 1):
        te = time.perf_counter()
        model.train()
        order = event_rng(seed, "set", f"order/{epoch}").permutation(n_train)
        total, nb = 0.0, 0
        for s0 in tqdm(range(0, n_train, bs), desc=f"set epoch {epoch}", leave=False, disable=not progress, mininterval=2.0):
            idx = order[s0:s0 + bs]
            if len(idx) < 2:
                continue
            b = bags["train"]
            out = model(b.features[idx], b.mask[idx], b.patch_en[idx])
            loss = _bag_loss(out, b, idx, ctx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            nb += 1
        raw, _ = bag_events(model, bags["val"], ctx, prior)
        score = validation_score(_table_events(preds_by_split["val"], raw, prior))
        improved = bool(np.isfinite(score) and score < best_score)
        if improved:
            best_score, bad = score, 0
            best = {"model": {k: v.detach().clone() for k, v in model.state_dict().items()}, "epoch": epoch}
        else:
            bad += 1
        history.append({"epoch": epoch, "lr": float(scfg["lr"]), "train_loss": total / max(nb, 1), "val_score": score,
                        "best": int(improved), "items": n_train, "seconds": round(time.perf_counter() - te, 3)})
        log.info("set epoch %d loss %.4f val_score %.4f%s", epoch, total / max(nb, 1), score, " *" if improved else "")
        if int(scfg["patience"]) > 0 and bad >= int(scfg["patience"]):
            break
    _write_history(out_dir / "history.csv", history)
    if best is None:
        raise RuntimeError(f"{out_dir}: no epoch of the set model produced a finite validation score")
    model.load_state_dict(best["model"])
    results = {}
    for split in ("val", "test"):
        raw, att = bag_events(model, bags[split], ctx, prior)
        results[split] = _table_events(preds_by_split[split], raw, prior)
        weights = np.zeros(len(preds_by_split[split]))
        for k, rows in enumerate(bags[split].rows):
            weights[rows] = att[k, :len(rows)]
        preds_by_split[split]["weight"] = weights
    val_ev, test_ev, calib = answer(results["val"], results["test"], magnitude_fallback="model")
    _save_torch(out_dir / "checkpoint.pt", {"model": best["model"], "epoch": best["epoch"],
                                             "meta": {"estimator": ESTIMATOR, "in_dim": int(bags["train"].features.shape[-1]),
                                                      "hidden": int(scfg["hidden"]), "gated_checkpoint": str(gated_dir / "checkpoint.pt"),
                                                      "gated_fingerprint": meta["fingerprint"], "calibration": calib,
                                                      "mw_mean": ctx.mw_mean, "mw_std": ctx.mw_std, "prior": prior}})
    boot = Bootstrap(int(cfg["bootstrap"]), seed)
    metrics = {"estimator": ESTIMATOR, "model": model_name, "seed": seed, "ranking_lambda": lam, "fingerprint": fp,
               "gated_run": str(gated_dir), "n_train_events": n_train, "n_val_events": len(val_ev), "n_test_events": len(test_ev),
               "prior": prior, "config": cfg, "feature_seconds": round(feature_seconds, 3), "best_epoch": best["epoch"],
               "epochs_run": len(history), "best_val_score": best_score, **calib,
               "test": evaluate(test_ev, preds_by_split["test"], tasks, boot, prior),
               "val": {"score": best_score, "n_events": int(len(val_ev))}}
    write_outputs(out_dir, metrics, preds_by_split["test"], test_ev, val_ev, make_figures, seed)
    return json.loads(dumps_json(_finite(metrics)))
