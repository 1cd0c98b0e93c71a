"""Evaluation: per-patch predictions table, patch-level and event-level metrics, trivial baselines.

Patch level: MAE, MSE, RMSE and the coefficient of determination R^2 = 1 - SS_res / SS_tot for each
regression target; accuracy, precision, recall, F1 and ROC AUC (Mann-Whitney form) for detection.
Epicentre errors are great-circle distances in km (:func:`quakesar.geodesy.haversine_km`) and, for
comparison with the reference thesis that reported degrees, absolute latitude/longitude errors in
degrees. Event level: see :mod:`quakesar.learning.event_level`; every event-level statistic has a
bootstrap CI over events (:mod:`quakesar.learning.bootstrap`).

Trivial baselines in the same table (no learning, all fitted on the training split only):
``train_mean`` (predict the training mean magnitude / distance), ``patch_centre`` (the epicentre is
the patch centre; per event, the geometric median of the patch centres) and ``scene_centre`` (the
epicentre is the centre of the scene footprint, the mean of the centres of all that scene's patches),
and ``majority`` for detection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quakesar.geodesy import haversine_km, polar_to_latlon
from quakesar.learning.bootstrap import bootstrap_ci, mean_abs, median, p90
from quakesar.learning.event_level import combine_events, geometric_median_latlon, local_frame_origin
from quakesar.learning.tasks import TaskSpec

META_COLUMNS = ("patch_id", "event_id", "scene_id", "subswath", "split", "center_lat", "center_lon", "epicenter_lat", "epicenter_lon",
                "distance_km", "bearing_deg", "east_km", "north_km", "magnitude", "deformation",
                "corner_00_lat", "corner_00_lon", "corner_01_lat", "corner_01_lon", "corner_11_lat", "corner_11_lon", "corner_10_lat", "corner_10_lon")


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
    ok = np.isfinite(y)
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
    return {"n": int(y.size), "accuracy": float((pred == y).mean()) if y.size else float("nan"), "precision": prec, "recall": rec, "f1": f1,
            "roc_auc": auc, "positive_fraction": float(y.mean()) if y.size else float("nan")}


def build_predictions(index: pd.DataFrame, rows: np.ndarray, outputs: np.ndarray, spec: TaskSpec) -> pd.DataFrame:
    """The predictions table: the index rows' metadata plus ``pred_*`` columns (and errors).

    ``outputs`` are in target units (de-standardised) for regression, logits for detection.
    """
    rows = np.asarray(rows, dtype=int)
    out = np.asarray(outputs, dtype=float).reshape(len(rows), -1)
    df = index.iloc[rows][[c for c in META_COLUMNS if c in index.columns]].reset_index(drop=True)
    df.insert(0, "row", rows)
    if spec.kind == "binary":
        prob = 1.0 / (1.0 + np.exp(-out[:, 0]))
        df["pred_prob"] = prob
        df["pred_deformation"] = (prob >= 0.5).astype(int)
        return df
    for k, t in enumerate(spec.targets):
        df[f"pred_{t}"] = out[:, k]
        df[f"error_{t}"] = out[:, k] - pd.to_numeric(df[t], errors="coerce").to_numpy(float)
    if spec.name == "epicentre":
        la, lo = polar_to_latlon(df["center_lat"].to_numpy(float), df["center_lon"].to_numpy(float), out[:, 0] * 1000.0, out[:, 1] * 1000.0)
        df["pred_epicenter_lat"], df["pred_epicenter_lon"] = la, lo
        df["error_km"] = haversine_km(df["epicenter_lat"].to_numpy(float), df["epicenter_lon"].to_numpy(float), la, lo)
        df["error_lat_deg"] = np.abs(la - df["epicenter_lat"].to_numpy(float))
        df["error_lon_deg"] = np.abs((lo - df["epicenter_lon"].to_numpy(float) + 180.0) % 360.0 - 180.0)
    return df


def scene_centres(index: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Centre of each scene's footprint: the (dateline-safe) mean of its patch centres."""
    key = "scene_id" if "scene_id" in index.columns else "event_id"
    return {str(s): local_frame_origin(g["center_lat"].to_numpy(float), g["center_lon"].to_numpy(float)) for s, g in index.groupby(key)}


def _ci(v: np.ndarray, stat, cfg_boot: int, seed: int, purpose: str) -> dict[str, float]:
    return bootstrap_ci(np.asarray(v, float), stat, cfg_boot, seed, purpose)


def evaluate_predictions(pred: pd.DataFrame, spec: TaskSpec, index: pd.DataFrame, n_bootstrap: int, seed: int) -> dict[str, Any]:
    """All metrics of one run: ``{"patch": ..., "event": ..., "baselines": {...}}`` (see module doc)."""
    train = index[index["split"] == "train"]
    res: dict[str, Any] = {"n_patches": int(len(pred)), "n_events": int(pred["event_id"].nunique())}
    ev = combine_events(pred, spec.name)
    if spec.kind == "binary":
        res["patch"] = detection_metrics(pred["deformation"], pred["pred_prob"])
        maj = float(pd.to_numeric(train["deformation"], errors="coerce").mean() >= 0.5)
        res["baselines"] = {"majority": {"patch": detection_metrics(pred["deformation"], np.full(len(pred), maj))}}
        return res
    res["patch"] = {t: regression_metrics(pred[t], pred[f"pred_{t}"]) for t in spec.targets}
    if spec.name == "magnitude":
        err = ev["error_magnitude"].to_numpy()
        res["event"] = {"magnitude_mae": _ci(err, mean_abs, n_bootstrap, seed, "event magnitude MAE"),
                        "magnitude_median_abs_error": _ci(np.abs(err), median, n_bootstrap, seed, "event magnitude median AE")}
        mean_m = float(pd.to_numeric(train["magnitude"], errors="coerce").mean())
        base_err = ev["magnitude"].to_numpy() - mean_m
        res["baselines"] = {"train_mean": {"value": mean_m, "patch": {"magnitude": regression_metrics(pred["magnitude"], np.full(len(pred), mean_m))},
                                           "event": {"magnitude_mae": _ci(base_err, mean_abs, n_bootstrap, seed, "baseline train-mean magnitude MAE")}}}
    elif spec.name == "distance":
        mean_d = float(pd.to_numeric(train["distance_km"], errors="coerce").mean())
        res["event"] = {"distance_mae_km": _ci(ev["abs_error_distance_km"].to_numpy(), np.mean, n_bootstrap, seed, "event distance MAE")}
        base = pred.assign(pred_distance_km=mean_d)
        base_ev = combine_events(base, "distance")
        res["baselines"] = {"train_mean": {"value": mean_d, "patch": {"distance_km": regression_metrics(pred["distance_km"], np.full(len(pred), mean_d))},
                                           "event": {"distance_mae_km": _ci(base_ev["abs_error_distance_km"].to_numpy(), np.mean, n_bootstrap, seed, "baseline distance MAE")}}}
    elif spec.name == "epicentre":
        res["patch"]["error_km"] = {"mean": float(pred["error_km"].mean()), "median": float(pred["error_km"].median()),
                                    "p90": float(pred["error_km"].quantile(0.9))}
        res["patch"]["error_deg"] = {"lat_mae": float(pred["error_lat_deg"].mean()), "lon_mae": float(pred["error_lon_deg"].mean())}
        res["event"] = _epicentre_event_stats(ev, n_bootstrap, seed, "model")
        res["baselines"] = _epicentre_baselines(pred, index, n_bootstrap, seed)
    return res


def _epicentre_event_stats(ev: pd.DataFrame, n_bootstrap: int, seed: int, name: str) -> dict[str, Any]:
    e = ev["error_km"].to_numpy()
    return {"error_km_median": _ci(e, median, n_bootstrap, seed, f"{name} epicentre median km"),
            "error_km_p90": _ci(e, p90, n_bootstrap, seed, f"{name} epicentre p90 km"),
            "error_km_mean": _ci(e, np.mean, n_bootstrap, seed, f"{name} epicentre mean km"),
            "error_lat_deg_mae": float(ev["error_lat_deg"].mean()), "error_lon_deg_mae": float(ev["error_lon_deg"].mean())}


def _epicentre_baselines(pred: pd.DataFrame, index: pd.DataFrame, n_bootstrap: int, seed: int) -> dict[str, Any]:
    """Patch-centre and scene-centre epicentre baselines, patch and event level."""
    out: dict[str, Any] = {}
    centres = scene_centres(index)
    key = "scene_id" if "scene_id" in pred.columns else "event_id"
    sc = np.array([centres[str(s)] for s in pred[key]]) if len(pred) else np.zeros((0, 2))
    for name, (la, lo) in {"patch_centre": (pred["center_lat"].to_numpy(float), pred["center_lon"].to_numpy(float)),
                           "scene_centre": (sc[:, 0], sc[:, 1])}.items():
        b = pred.assign(pred_epicenter_lat=la, pred_epicenter_lon=lo)
        err = haversine_km(b["epicenter_lat"].to_numpy(float), b["epicenter_lon"].to_numpy(float), la, lo)
        ev = combine_events(b, "epicentre")
        out[name] = {"patch": {"error_km": {"mean": float(np.mean(err)), "median": float(np.median(err)), "p90": float(np.quantile(err, 0.9))}},
                     "event": _epicentre_event_stats(ev, n_bootstrap, seed, name)}
    return out


__all__ = ["build_predictions", "evaluate_predictions", "regression_metrics", "detection_metrics", "scene_centres", "geometric_median_latlon"]
