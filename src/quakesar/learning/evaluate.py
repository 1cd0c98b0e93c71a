"""Evaluation: patch predictions -> the event table (``events.csv``) -> metrics with baselines and CIs.

The event table has one row per event (docs/learning.md, "Event answers"):

* the answer: ``p_detectable`` (calibrated), ``detectable`` (its verdict, >= 0.5), ``fallback`` (1 when the
  verdict is "not detectable"), ``pred_lat``, ``pred_lon``, ``epicentre_r95_km`` (radius of the 95 %
  interval), ``pred_magnitude`` with ``pred_magnitude_lo``/``_hi``;
* the estimator's own answer before the fallback (``model_lat``, ``model_lon``, ``model_magnitude``) and
  the trivial baselines (``baseline_lat``/``_lon``: the patch centre, i.e. the geometric median of the
  event's patch centres; ``baseline_magnitude``: the training events' mean Mw);
* the truth when known (synthetic data): ``true_lat``, ``true_lon``, ``true_magnitude`` (Mw),
  ``truth_snr`` (largest patch peak |LOS| over the turbulence std), ``truth_detectable``
  (:mod:`quakesar.detectability`), and the errors ``error_km``, ``baseline_error_km``,
  ``magnitude_error``, ``baseline_magnitude_error`` (prediction minus truth).

Patch level (``predictions.csv``): the index rows' metadata plus each task's ``pred_*`` columns.
Metrics: each task object's :meth:`~quakesar.learning.tasks.Task.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quakesar.detectability import FACTOR
from quakesar.geodesy import haversine_km
from quakesar.learning.event_level import Calibration, Intervals, geometric_median_latlon, patch_weights
from quakesar.learning.tasks import Bootstrap, Task

META_COLUMNS = ("patch_id", "event_id", "scene_id", "subswath", "split", "origin", "center_lat", "center_lon", "epicenter_lat",
                "epicenter_lon", "distance_km", "east_km", "north_km", "mw", "magnitude", "depth_km", "signal", "snr", "epi_u",
                "epi_v", "peak_abs_los_m", "turbulence_std_m", "flight_direction", "heading_deg", "incidence_deg",
                "corner_00_lat", "corner_00_lon", "corner_01_lat", "corner_01_lon", "corner_11_lat", "corner_11_lon",
                "corner_10_lat", "corner_10_lon")
EVENT_COLUMNS = ("event_id", "n_patches", "p_detectable", "detectable", "fallback", "pred_lat", "pred_lon", "epicentre_r95_km",
                 "pred_magnitude", "pred_magnitude_lo", "pred_magnitude_hi", "true_lat", "true_lon", "true_magnitude",
                 "truth_snr", "truth_detectable", "error_km", "magnitude_error", "model_lat", "model_lon", "model_magnitude",
                 "p_detectable_raw", "baseline_lat", "baseline_lon", "baseline_error_km", "baseline_magnitude",
                 "baseline_magnitude_error", "weight_max")


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, MSE, RMSE, R^2 (NaN when the true values have no variance) and n."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    ok = np.isfinite(t) & np.isfinite(p)
    t, p = t[ok], p[ok]
    if t.size == 0:
        return {"n": 0, "mae": float("nan"), "mse": float("nan"), "rmse": float("nan"), "r2": float("nan")}
    err = p - t
    mse = float(np.mean(err**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    return {"n": int(t.size), "mae": float(np.mean(np.abs(err))), "mse": mse, "rmse": float(np.sqrt(mse)),
            "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")}


def detection_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy, precision, recall, F1 at ``threshold`` and ROC AUC (rank statistic, ties averaged)."""
    y, s = np.asarray(y_true, float), np.asarray(prob, float)
    ok = np.isfinite(y) & np.isfinite(s)
    y, s = y[ok].astype(int), s[ok]
    pred = (s >= threshold).astype(int)
    tp, fp = int(((pred == 1) & (y == 1)).sum()), int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    auc = float("nan")
    if n_pos and n_neg:
        ranks = pd.Series(s).rank(method="average").to_numpy()
        auc = float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return {"n": int(y.size), "accuracy": float((pred == y).mean()) if y.size else float("nan"), "precision": prec, "recall": rec,
            "f1": f1, "roc_auc": auc, "positive_fraction": float(y.mean()) if y.size else float("nan")}


def patch_predictions(table: pd.DataFrame, out: dict[str, np.ndarray], tasks: list[Task], ctx: Any) -> pd.DataFrame:
    """The predictions table: the rows' metadata plus every task's patch columns."""
    df = table[[c for c in META_COLUMNS if c in table.columns]].reset_index(drop=True).copy()
    for t in tasks:
        for k, v in t.patch_columns(df, out, ctx).items():
            df[k] = v
    return df


def event_truth(g: pd.DataFrame) -> dict[str, Any]:
    """Truth of one event from its patch rows (NaN when unknown)."""
    snr = pd.to_numeric(g["snr"], errors="coerce").max() if "snr" in g else np.nan
    return {"true_lat": float(g["epicenter_lat"].iloc[0]), "true_lon": float(g["epicenter_lon"].iloc[0]),
            "true_magnitude": float(g["mw"].iloc[0]), "truth_snr": float(snr),
            "truth_detectable": int(bool(np.isfinite(snr) and snr >= FACTOR))}


def event_table(preds: pd.DataFrame, tasks: list[Task], weight_power: float, prior: dict[str, Any]) -> pd.DataFrame:
    """The gated estimator's raw event table (before calibration and fallback, :func:`finalise`)."""
    rows = []
    for event_id, g in preds.groupby("event_id", sort=True):
        w = patch_weights(g["p_signal"].to_numpy(float), weight_power)
        row: dict[str, Any] = {"event_id": event_id, "n_patches": len(g), "weight_max": float(w.max())}
        for t in tasks:
            row.update(t.combine(g, w))
        row.update(baseline_answer(g, prior))
        row.update(event_truth(g))
        rows.append(row)
    return pd.DataFrame(rows)


def baseline_answer(g: pd.DataFrame, prior: dict[str, Any]) -> dict[str, float]:
    """The trivial baselines of one event: patch-centre epicentre, training-mean magnitude."""
    la, lo = geometric_median_latlon(g["center_lat"].to_numpy(float), g["center_lon"].to_numpy(float))
    return {"baseline_lat": la, "baseline_lon": lo, "baseline_magnitude": float(prior["mw_mean"])}


def finalise(ev: pd.DataFrame, calibration: Calibration, magnitude_fallback: str = "prior") -> pd.DataFrame:
    """Calibrated verdict, fallback answers and errors of a raw event table.

    ``magnitude_fallback``: ``prior`` (the fallback event's magnitude is the training mean: the gated model
    learnt magnitudes only from signal-bearing patches) or ``model`` (the estimator was trained on every
    event, detectable or not, and its magnitude stands).
    """
    out = ev.copy()
    if not len(out):
        return pd.DataFrame(columns=list(EVENT_COLUMNS))
    out["p_detectable"] = calibration.apply(out["p_detectable_raw"].to_numpy(float))
    out["detectable"] = (out["p_detectable"] >= 0.5).astype(int)
    out["fallback"] = 1 - out["detectable"]
    fb = out["fallback"].to_numpy(bool)
    if "model_lat" not in out:
        out["model_lat"], out["model_lon"] = out["baseline_lat"], out["baseline_lon"]
    if "model_magnitude" not in out:
        out["model_magnitude"] = out["baseline_magnitude"]
    out["pred_lat"] = np.where(fb, out["baseline_lat"], out["model_lat"])
    out["pred_lon"] = np.where(fb, out["baseline_lon"], out["model_lon"])
    mag_fb = out["baseline_magnitude"] if magnitude_fallback == "prior" else out["model_magnitude"]
    out["pred_magnitude"] = np.where(fb, mag_fb, out["model_magnitude"])
    out["error_km"] = haversine_km(out["true_lat"], out["true_lon"], out["pred_lat"], out["pred_lon"])
    out["baseline_error_km"] = haversine_km(out["true_lat"], out["true_lon"], out["baseline_lat"], out["baseline_lon"])
    out["magnitude_error"] = out["pred_magnitude"] - out["true_magnitude"]
    out["baseline_magnitude_error"] = out["baseline_magnitude"] - out["true_magnitude"]
    return out


def answer(val_raw: pd.DataFrame, test_raw: pd.DataFrame, magnitude_fallback: str = "prior"
           ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Calibrate on the validation events, finalise both tables, add conformal intervals (fitted on val)."""
    calib = Calibration.fit(val_raw["p_detectable_raw"].to_numpy(float), val_raw["truth_detectable"].to_numpy(float)) \
        if len(val_raw) else Calibration()
    val = finalise(val_raw, calib, magnitude_fallback)
    test = finalise(test_raw, calib, magnitude_fallback)
    intervals = Intervals.fit(val) if len(val) else Intervals.fit(pd.DataFrame(columns=["fallback", "error_km", "magnitude_error"]))
    val, test = intervals.apply(val), intervals.apply(test)
    return val, test, {"calibration": calib.as_dict(), "intervals": intervals.as_dict()}


def evaluate(ev: pd.DataFrame, preds: pd.DataFrame, tasks: list[Task], boot: Bootstrap, prior: dict[str, Any]) -> dict[str, Any]:
    """Every task's metrics on an event table and its patch predictions."""
    return {"n_events": int(len(ev)), "n_detectable": int(ev["truth_detectable"].sum()) if len(ev) else 0,
            "n_patches": int(len(preds)), **{t.name: t.metrics(ev, preds, boot, prior) for t in tasks}}


def events_csv_frame(ev: pd.DataFrame) -> pd.DataFrame:
    """The event table in the column order of ``events.csv``."""
    cols = [c for c in EVENT_COLUMNS if c in ev.columns] + [c for c in ev.columns if c not in EVENT_COLUMNS]
    return ev[cols]


def validation_score(ev: pd.DataFrame) -> float:
    """Model-selection criterion on validation events (lower is better): on the truth-detectable events,
    median epicentre error / 10 km + magnitude MAE / 0.2 Mw of the estimator's own answers (the targets
    of issue 12), plus the event-level detection log-loss; without a detectable event, the log-loss alone."""
    if not len(ev):
        return float("nan")
    y = ev["truth_detectable"].to_numpy(float)
    p = np.clip(ev["p_detectable_raw"].to_numpy(float), 1e-4, 1 - 1e-4)
    score = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    det = ev[ev["truth_detectable"] == 1]
    if len(det):
        if "model_lat" in det:
            err = haversine_km(det["true_lat"], det["true_lon"], det["model_lat"], det["model_lon"])
            score += float(np.median(err)) / 10.0
        if "model_magnitude" in det:
            score += float(np.mean(np.abs(det["model_magnitude"] - det["true_magnitude"]))) / 0.2
    return score
