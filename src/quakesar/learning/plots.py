"""Figures of a run (matplotlib, Agg backend): curves, predicted vs true, errors vs distance and
magnitude, and maps of a few events with patch outlines, true and predicted epicentres.

Every figure is written through :func:`quakesar.atomic.atomic_path`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from quakesar.atomic import atomic_path  # noqa: E402
from quakesar.learning.event_level import combine_events  # noqa: E402
from quakesar.rng import event_rng  # noqa: E402

CORNERS = ("00", "01", "11", "10")


def save_figure(fig: plt.Figure, path: Path) -> str:
    """Save ``fig`` atomically as PNG and close it; returns the file name."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path.name


def abs_error(pred: pd.DataFrame, task: str) -> tuple[np.ndarray, str]:
    """The per-patch absolute error of a task and its axis label."""
    if task == "epicentre":
        return pred["error_km"].to_numpy(float), "epicentre error (km)"
    if task == "magnitude":
        return np.abs(pred["error_magnitude"].to_numpy(float)), "|magnitude error|"
    if task == "distance":
        return np.abs(pred["error_distance_km"].to_numpy(float)), "|distance error| (km)"
    return np.abs(pred["pred_prob"].to_numpy(float) - pred["deformation"].to_numpy(float)), "|p - label|"


def plot_curves(history: pd.DataFrame, path: Path) -> str:
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    ax[0].plot(history["epoch"], history["train_loss"], label="train loss")
    ax[0].plot(history["epoch"], history["val_loss"], label="val loss")
    ax[0].set_xlabel("epoch")
    ax[0].legend()
    ax[1].plot(history["epoch"], history["val_score"], "o-", ms=3)
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("validation score (selection)")
    return save_figure(fig, path)


def plot_pred_vs_true(pred: pd.DataFrame, targets: list[str], path: Path) -> str:
    fig, axes = plt.subplots(1, len(targets), figsize=(4 * len(targets), 3.8), squeeze=False, layout="constrained")
    for ax, t in zip(axes[0], targets):
        y, p = pred[t].to_numpy(float), pred[f"pred_{t}"].to_numpy(float)
        ax.scatter(y, p, s=6, alpha=0.5)
        lo, hi = np.nanmin(np.r_[y, p]), np.nanmax(np.r_[y, p])
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel(f"true {t}")
        ax.set_ylabel(f"predicted {t}")
    return save_figure(fig, path)


def plot_error_vs(pred: pd.DataFrame, task: str, column: str, path: Path) -> str:
    err, label = abs_error(pred, task)
    fig, ax = plt.subplots(figsize=(4.5, 3.5), layout="constrained")
    ax.scatter(pred[column].to_numpy(float), err, s=6, alpha=0.5)
    ax.set_xlabel(column)
    ax.set_ylabel(label)
    return save_figure(fig, path)


def plot_event_maps(pred: pd.DataFrame, path: Path, seed: int, max_events: int = 4) -> str:
    """Patch outlines, per-patch predicted epicentres, their geometric median and the true epicentre."""
    ev = combine_events(pred, "epicentre")
    ids = sorted(ev["event_id"])
    if len(ids) > max_events:
        ids = sorted(event_rng(seed, "event-maps", "choice").choice(ids, size=max_events, replace=False))
    fig, axes = plt.subplots(1, len(ids), figsize=(4 * len(ids), 4), squeeze=False, layout="constrained")
    for ax, eid in zip(axes[0], ids):
        g = pred[pred["event_id"] == eid]
        for _, r in g.iterrows():
            lats = [r[f"corner_{c}_lat"] for c in CORNERS + ("00",)]
            lons = [r[f"corner_{c}_lon"] for c in CORNERS + ("00",)]
            ax.plot(lons, lats, color="0.6", lw=0.6)
        ax.scatter(g["pred_epicenter_lon"], g["pred_epicenter_lat"], s=8, color="tab:blue", alpha=0.6, label="patch predictions")
        e = ev[ev["event_id"] == eid].iloc[0]
        ax.scatter([e["epicenter_lon"]], [e["epicenter_lat"]], marker="*", s=160, color="tab:red", label="true epicentre")
        ax.scatter([e["pred_epicenter_lon"]], [e["pred_epicenter_lat"]], marker="X", s=90, color="k", label="event estimate")
        ax.set_title(f"{eid}: {e['error_km']:.1f} km", fontsize=9)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_aspect(1.0 / max(np.cos(np.radians(float(e["epicenter_lat"]))), 0.1))
    axes[0][0].legend(fontsize=7, loc="best")
    return save_figure(fig, path)


def plot_run(pred: pd.DataFrame, task: str, out_dir: Path, history: pd.DataFrame, seed: int) -> list[str]:
    """All figures of one run in ``out_dir``; returns their file names."""
    out_dir = Path(out_dir)
    names = [plot_curves(history, out_dir / "curves.png")]
    if len(pred) == 0:
        return names
    if task != "detection":
        targets = {"epicentre": ["east_km", "north_km"], "magnitude": ["magnitude"], "distance": ["distance_km"]}[task]
        names.append(plot_pred_vs_true(pred, targets, out_dir / "pred_vs_true.png"))
    names.append(plot_error_vs(pred, task, "distance_km", out_dir / "error_vs_distance.png"))
    names.append(plot_error_vs(pred, task, "magnitude", out_dir / "error_vs_magnitude.png"))
    if task == "epicentre" and all(f"corner_{c}_lat" in pred.columns for c in CORNERS):
        names.append(plot_event_maps(pred, out_dir / "event_maps.png", seed))
    return names
