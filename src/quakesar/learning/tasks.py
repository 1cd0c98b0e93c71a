"""Learning tasks as objects: each holds its loss, patch outputs, event combination, metrics, report rows.

| task | patch target | patch loss (rows) | event answer | event metrics (vs baseline) |
|---|---|---|---|---|
| ``detection`` | ``signal``: peak truth LOS in the window >= 3 x turbulence std | BCE (all) | ``p_detectable`` | ROC AUC, accuracy, Brier (vs the training prevalence) |
| ``epicentre`` | ``epi_u, epi_v``: epicentre in the patch's image frame | L1 + Laplace NLL of a predicted scale (signal rows) | geometric median weighted by ``p^k / b`` | median km, within 20 km, paired difference (vs patch centre) |
| ``magnitude`` | ``mw`` | MSE + lambda x margin ranking between events, + Gaussian NLL of a predicted std (signal rows) | weighted mean | MAE, paired difference (vs training mean) |
| ``distance`` | ``distance_km`` (derived from the offset head) | none | - | MAE on signal patches (vs training mean) |

Every event metric is given for all test events and for the truth-detectable and undetectable ones
(:mod:`quakesar.detectability`), with 95 % bootstrap CIs over events; "paired difference" is the mean of
the per-event differences (model error - baseline error) with its bootstrap CI: a CI below zero means the
model beats the baseline on these events. The estimators (:mod:`quakesar.learning.train` for the gated
patch model, :mod:`quakesar.learning.setmodel` for the event-set model) produce the same event table,
so the tasks evaluate and report both the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from quakesar.geodesy import haversine_km, polar_to_latlon
from quakesar.learning.bootstrap import bootstrap_ci, mean_abs, median, p90
from quakesar.learning.event_level import geometric_median_latlon
from quakesar.learning.losses import pairwise_margin_ranking
from quakesar.patches.geometry import CORNERS, axis_vectors

STRATA = ("all", "detectable", "undetectable")
WITHIN_KM = 20.0


@dataclass(frozen=True)
class LossContext:
    """What the losses need beyond a batch: target scaling, ranking settings and the loss weights."""

    mw_mean: float
    mw_std: float
    ranking_lambda: float = 0.0
    ranking_margin: float = 0.05
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def margin_z(self) -> float:
        return self.ranking_margin / self.mw_std


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap settings shared by every metric of a run."""

    n: int
    seed: int

    def ci(self, values: np.ndarray, stat: Callable[[np.ndarray], float], purpose: str) -> dict[str, float]:
        return bootstrap_ci(np.asarray(values, float), stat, self.n, self.seed, purpose)


def strata(ev: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The event table split by truth detectability (the ``truth_detectable`` column)."""
    det = ev["truth_detectable"].astype(bool) if len(ev) else pd.Series([], dtype=bool)
    return {"all": ev, "detectable": ev[det], "undetectable": ev[~det]}


def fraction(v: np.ndarray) -> float:
    return float(np.mean(v)) if len(v) else float("nan")


def fmt_ci(d: dict[str, Any] | None, digits: int = 3) -> str:
    """``value [low, high]`` (or the value, or n/a)."""
    if not d or d.get("value") is None or not np.isfinite(d["value"]):
        return "n/a"
    lo, hi = d.get("ci_low"), d.get("ci_high")
    if lo is None or hi is None or not np.isfinite(lo):
        return f"{d['value']:.{digits}g}"
    return f"{d['value']:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def fmt_num(v: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, or n/a (None/NaN, as metrics.json stores them)."""
    return "n/a" if v is None or not np.isfinite(float(v)) else f"{float(v):.{digits}g}"


class Task:
    """Base class: a task contributes nothing unless it overrides a hook."""

    name = ""
    title = ""

    def patch_loss(self, out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], ctx: LossContext
                   ) -> tuple[torch.Tensor | None, dict[str, float]]:
        return None, {}

    def patch_columns(self, table: pd.DataFrame, out: dict[str, np.ndarray], ctx: LossContext) -> dict[str, np.ndarray]:
        return {}

    def combine(self, g: pd.DataFrame, w: np.ndarray) -> dict[str, Any]:
        return {}

    def metrics(self, ev: pd.DataFrame, patches: pd.DataFrame, boot: Bootstrap, prior: dict[str, Any]) -> dict[str, Any]:
        return {}

    def report_rows(self, metrics: dict[str, Any], head: dict[str, Any]) -> list[dict[str, Any]]:
        return []


class DetectionTask(Task):
    name, title = "detection", "signal detection (patch) and detectability verdict (event)"

    def patch_loss(self, out, batch, ctx):
        loss = F.binary_cross_entropy_with_logits(out["logit"].float(), batch["signal"].float())
        return loss, {"bce": float(loss.detach())}

    def patch_columns(self, table, out, ctx):
        return {"p_signal": 1.0 / (1.0 + np.exp(-np.asarray(out["logit"], float)))}

    def combine(self, g, w):
        return {"p_detectable_raw": float(g["p_signal"].max())}

    def metrics(self, ev, patches, boot, prior):
        from quakesar.learning.evaluate import detection_metrics

        y = ev["truth_detectable"].to_numpy(float)
        p = ev["p_detectable"].to_numpy(float)
        prev = float(prior.get("detectable_fraction", np.nan))
        res = {"event": detection_metrics(y, p), "flagged_undetectable": fraction(ev["fallback"].to_numpy(float)),
               "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
               "baseline_prevalence": {"value": prev, "brier": float(np.mean((prev - y) ** 2)) if len(y) else float("nan")}}
        if len(patches) and patches["signal"].notna().any():
            ok = patches["signal"].notna()
            res["patch"] = detection_metrics(patches.loc[ok, "signal"].to_numpy(float), patches.loc[ok, "p_signal"].to_numpy(float))
        return res

    def report_rows(self, m, head):
        e = m["event"]
        return [{**head, "task": self.name, "stratum": "all", "method": "model",
                 "metric": "event ROC AUC / accuracy / Brier",
                 "value": f"{fmt_num(e['roc_auc'])} / {fmt_num(e['accuracy'])} / {fmt_num(m['brier'])}",
                 "baseline": f"prevalence {fmt_num(m['baseline_prevalence']['value'], 2)}: Brier {fmt_num(m['baseline_prevalence']['brier'])}",
                 "n_events": e["n"]}]


class EpicentreTask(Task):
    name, title = "epicentre", "epicentre (km)"

    def patch_loss(self, out, batch, ctx):
        sig = batch["signal"] > 0.5
        if not bool(sig.any()):
            return out["uv"].sum() * 0.0, {"offset": 0.0}
        # L1 on the offset, plus the Laplace negative log-likelihood |d| / b + log b of the scale given the
        # detached error (heteroscedastic, Kendall & Gal 2017). Detaching keeps the offset's own gradient
        # that of plain L1: in the full NLL it is divided by b, so hard (far) patches would stop learning
        # (the pathology of Seitzer et al. 2022, "On the pitfalls of heteroscedastic uncertainty estimation").
        log_b = out["log_b"][sig].float()[:, None]
        d = (out["uv"][sig].float() - batch["uv"][sig].float()).abs()
        loss = d.mean() + (d.detach() * torch.exp(-log_b) + log_b).mean()
        return loss, {"offset": float(d.mean().detach())}

    def patch_columns(self, table, out, ctx):
        uv = np.asarray(out["uv"], float).reshape(-1, 2)
        basis = patch_axes(table)
        en = np.einsum("nij,nj->ni", basis, uv)
        la, lo = polar_to_latlon(table["center_lat"].to_numpy(float), table["center_lon"].to_numpy(float), en[:, 0] * 1000.0,
                                 en[:, 1] * 1000.0)
        half = np.sqrt(np.abs(np.linalg.det(basis)))           # geometric-mean patch half-width (km)
        cols = {"pred_u": uv[:, 0], "pred_v": uv[:, 1], "pred_epicenter_lat": la, "pred_epicenter_lon": lo,
                "pred_distance_km": np.hypot(en[:, 0], en[:, 1]),
                "pred_offset_scale_km": np.exp(np.asarray(out["log_b"], float).reshape(-1)) * half}
        if table["epicenter_lat"].notna().any():
            cols["error_km"] = haversine_km(table["epicenter_lat"].to_numpy(float), table["epicenter_lon"].to_numpy(float), la, lo)
        return cols

    def combine(self, g, w):
        """Weighted geometric median with weights ``w_i / b_i`` (the detection weight over the predicted
        Laplace scale: the maximum-likelihood weights of isotropic Laplace errors)."""
        ww = w / np.maximum(g["pred_offset_scale_km"].to_numpy(float), 1e-3) if "pred_offset_scale_km" in g else w
        la, lo = geometric_median_latlon(g["pred_epicenter_lat"].to_numpy(), g["pred_epicenter_lon"].to_numpy(), ww / ww.sum())
        return {"model_lat": la, "model_lon": lo}

    def metrics(self, ev, patches, boot, prior):
        out: dict[str, Any] = {}
        for s, e in strata(ev).items():
            err, base = e["error_km"].to_numpy(float), e["baseline_error_km"].to_numpy(float)
            r = e["epicentre_r95_km"].to_numpy(float)
            out[s] = {"n": int(len(e)), "error_km_median": boot.ci(err, median, f"epicentre median {s}"),
                      "error_km_mean": boot.ci(err, np.mean, f"epicentre mean {s}"),
                      "error_km_p90": boot.ci(err, p90, f"epicentre p90 {s}"),
                      f"within_{WITHIN_KM:g}km": boot.ci((err <= WITHIN_KM).astype(float), np.mean, f"epicentre within {s}"),
                      "baseline_patch_centre": {"error_km_median": boot.ci(base, median, f"epicentre baseline median {s}"),
                                                f"within_{WITHIN_KM:g}km": fraction(base <= WITHIN_KM)},
                      "paired_difference_km": boot.ci(err - base, np.mean, f"epicentre paired {s}"),
                      "paired_difference_km_median": boot.ci(err - base, median, f"epicentre paired median {s}"),
                      "coverage_r95": fraction(err <= r)}
        return out

    def report_rows(self, m, head):
        rows = []
        for s in STRATA:
            d = m[s]
            if not d["n"]:
                continue
            rows.append({**head, "task": self.name, "stratum": s, "method": "model", "metric": "median error km",
                         "value": fmt_ci(d["error_km_median"]),
                         "baseline": f"patch centre {fmt_ci(d['baseline_patch_centre']['error_km_median'])}",
                         "paired_difference": fmt_ci(d["paired_difference_km"]),
                         f"within_{WITHIN_KM:g}km": fmt_ci(d[f"within_{WITHIN_KM:g}km"], 2), "coverage_95": fmt_num(d["coverage_r95"], 2),
                         "n_events": d["n"]})
        return rows


class MagnitudeTask(Task):
    name, title = "magnitude", "moment magnitude (Mw)"

    def patch_loss(self, out, batch, ctx):
        """MSE + lambda x margin ranking between events on the mean, and the Gaussian NLL of the predicted
        standard deviation given the detached error (see :meth:`EpicentreTask.patch_loss` for why)."""
        sig = batch["signal"] > 0.5
        if not bool(sig.any()):
            return out["mw"].sum() * 0.0, {"mse": 0.0, "ranking": 0.0}
        z = (batch["mw"][sig].float() - ctx.mw_mean) / ctx.mw_std
        pred, log_s = out["mw"][sig].float(), out["log_s"][sig].float()
        sq = (pred - z) ** 2
        loss = sq.mean() + (0.5 * sq.detach() * torch.exp(-2.0 * log_s) + log_s).mean()
        mse = float(sq.mean().detach())
        if ctx.ranking_lambda == 0:
            return loss, {"mse": mse, "ranking": 0.0}
        mr = pairwise_margin_ranking(pred, z, ctx.margin_z, groups=batch["event"][sig])
        return loss + ctx.ranking_lambda * mr, {"mse": mse, "ranking": float(mr.detach())}

    def patch_columns(self, table, out, ctx):
        mw = np.asarray(out["mw"], float) * ctx.mw_std + ctx.mw_mean
        return {"pred_mw": mw, "pred_mw_std": np.exp(np.asarray(out["log_s"], float)) * ctx.mw_std}

    def combine(self, g, w):
        """Weighted mean with weights ``w_i / s_i^2`` (inverse-variance within the detection weights)."""
        ww = w / np.maximum(g["pred_mw_std"].to_numpy(float), 1e-3) ** 2 if "pred_mw_std" in g else w
        return {"model_magnitude": float(np.sum(ww * g["pred_mw"].to_numpy(float)) / max(ww.sum(), 1e-300))}

    def metrics(self, ev, patches, boot, prior):
        out: dict[str, Any] = {}
        for s, e in strata(ev).items():
            err, base = e["magnitude_error"].to_numpy(float), e["baseline_magnitude_error"].to_numpy(float)
            lo, hi, t = e["pred_magnitude_lo"].to_numpy(float), e["pred_magnitude_hi"].to_numpy(float), e["true_magnitude"].to_numpy(float)
            out[s] = {"n": int(len(e)), "mae": boot.ci(err, mean_abs, f"magnitude mae {s}"),
                      "median_abs_error": boot.ci(np.abs(err), median, f"magnitude median ae {s}"),
                      "bias": float(np.mean(err)) if len(err) else float("nan"),
                      "baseline_training_mean": {"value": prior.get("mw_mean"), "mae": boot.ci(base, mean_abs, f"magnitude baseline {s}")},
                      "paired_difference": boot.ci(np.abs(err) - np.abs(base), np.mean, f"magnitude paired {s}"),
                      "coverage_95": fraction((t >= lo) & (t <= hi))}
        return out

    def report_rows(self, m, head):
        rows = []
        for s in STRATA:
            d = m[s]
            if not d["n"]:
                continue
            rows.append({**head, "task": self.name, "stratum": s, "method": "model", "metric": "MAE (Mw)",
                         "value": fmt_ci(d["mae"]), "baseline": f"training mean {fmt_ci(d['baseline_training_mean']['mae'])}",
                         "paired_difference": fmt_ci(d["paired_difference"]), "coverage_95": fmt_num(d["coverage_95"], 2),
                         "n_events": d["n"]})
        return rows


class DistanceTask(Task):
    """Epicentral distance of a patch: ``|B (u, v)|`` from the offset head (no head of its own)."""

    name, title = "distance", "epicentral distance of signal patches (km)"

    def metrics(self, ev, patches, boot, prior):
        from quakesar.learning.evaluate import regression_metrics

        sig = patches[patches["signal"] == 1] if "signal" in patches else patches.iloc[:0]
        if not len(sig) or "pred_distance_km" not in sig:
            return {"n": 0}
        per_event = (sig.assign(ae=np.abs(sig["pred_distance_km"] - sig["distance_km"])).groupby("event_id")["ae"].mean())
        base = float(prior.get("signal_distance_mean_km", np.nan))
        base_ev = sig.assign(ae=np.abs(base - sig["distance_km"])).groupby("event_id")["ae"].mean()
        return {"n": int(len(per_event)), "patch": regression_metrics(sig["distance_km"], sig["pred_distance_km"]),
                "event_mae_km": boot.ci(per_event.to_numpy(), np.mean, "distance event mae"),
                "baseline_training_mean": {"value": base, "event_mae_km": boot.ci(base_ev.to_numpy(), np.mean, "distance baseline")}}

    def report_rows(self, m, head):
        if not m.get("n"):
            return []
        return [{**head, "task": self.name, "stratum": "signal patches", "method": "model", "metric": "MAE km (per event)",
                 "value": fmt_ci(m["event_mae_km"]), "baseline": f"training mean {fmt_ci(m['baseline_training_mean']['event_mae_km'])}",
                 "n_events": m["n"]}]


TASKS: dict[str, Task] = {t.name: t for t in (DetectionTask(), EpicentreTask(), MagnitudeTask(), DistanceTask())}
TRAINED = ("detection", "epicentre", "magnitude")


def get_tasks(names: list[str] | tuple[str, ...]) -> list[Task]:
    """Task objects of ``names`` (``detection`` is required: the event answer is detection-weighted)."""
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise ValueError(f"train.tasks: unknown task(s) {unknown}; expected a subset of {list(TASKS)}")
    if "detection" not in names:
        raise ValueError("train.tasks: 'detection' is required (the event answer is weighted by the detection probability)")
    out = [TASKS[n] for n in names]
    if "epicentre" in names and "distance" not in names:
        out.append(TASKS["distance"])
    return out


def patch_axes(table: pd.DataFrame) -> np.ndarray:
    """``[N, 2, 2]`` half-width axis vectors (km) of each patch from its corners (image frame -> east/north)."""
    corners = {k: (table[f"corner_{k}_lat"].to_numpy(float), table[f"corner_{k}_lon"].to_numpy(float)) for k in CORNERS}
    return axis_vectors(corners, table["center_lat"].to_numpy(float), table["center_lon"].to_numpy(float))
