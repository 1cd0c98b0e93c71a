"""Figures of a run (matplotlib, Agg backend), every one written through :func:`quakesar.atomic.atomic_path`.

* ``curves.png``: training loss parts and the validation selection score per epoch;
* ``event_maps.png``: per test event, its patch outlines shaded by the detection weight, the per-patch
  predicted epicentres (marker size = weight), the event answer with its 95 % circle, the patch-centre
  baseline and the true epicentre (issue 12: "maps per event show the detection weights");
* ``errors.png``: event epicentre and magnitude errors against the truth signal-to-noise ratio, model and
  baseline, with the detectability threshold;
* ``magnitude.png``: predicted against true Mw of the test events (answered vs fallback).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from quakesar.atomic import atomic_path  # noqa: E402
from quakesar.detectability import FACTOR  # noqa: E402
from quakesar.learning.event_level import patch_weights  # noqa: E402
from quakesar.patches.geometry import CORNERS  # noqa: E402
from quakesar.rng import event_rng  # noqa: E402

KM_PER_DEG = 111.195


def save_figure(fig: plt.Figure, path: Path) -> str:
    """Save ``fig`` atomically as PNG and close it; returns the file name."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path.name


def plot_curves(history: pd.DataFrame, path: Path) -> str:
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    if len(history):
        for col in ("train_loss", "bce", "offset", "mse", "ranking"):
            if col in history and history[col].abs().sum() > 0:
                ax[0].plot(history["epoch"], history[col], label=col)
        ax[0].legend(fontsize=7)
        ax[1].plot(history["epoch"], history["val_score"], "o-", ms=3)
    ax[0].set_xlabel("epoch")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("validation event score (selection)")
    return save_figure(fig, path)


def _pick(ev: pd.DataFrame, seed: int, n: int) -> list[str]:
    """Up to ``n`` events, the truth-detectable ones first (they are the informative maps)."""
    det = sorted(ev.loc[ev["truth_detectable"] == 1, "event_id"])
    rest = sorted(ev.loc[ev["truth_detectable"] != 1, "event_id"])
    rng = event_rng(seed, "event-maps", "choice")
    det = list(rng.permutation(det))
    return sorted(det[:n] + list(rng.permutation(rest))[: max(0, n - len(det[:n]))])


def plot_event_maps(preds: pd.DataFrame, ev: pd.DataFrame, path: Path, seed: int, max_events: int = 6,
                    weight_power: float = 2.0) -> str:
    """Maps of test events with the detection weights (module docstring)."""
    ids = _pick(ev, seed, max_events)
    ncol = min(3, max(len(ids), 1))
    nrow = max(1, -(-len(ids) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 4.0 * nrow), squeeze=False, layout="constrained")
    cmap = plt.get_cmap("viridis")
    for ax, eid in zip(axes.ravel(), ids):
        g = preds[preds["event_id"] == eid]
        e = ev[ev["event_id"] == eid].iloc[0]
        if "weight" in g:  # the set model's attention
            w = g["weight"].to_numpy(float) / max(float(g["weight"].sum()), 1e-12)
        else:
            w = patch_weights(g["p_signal"].to_numpy(float), weight_power)
        for (_, r), wk in zip(g.iterrows(), w / max(w.max(), 1e-12)):
            lats = [r[f"corner_{c}_lat"] for c in CORNERS + ("00",)]
            lons = [r[f"corner_{c}_lon"] for c in CORNERS + ("00",)]
            ax.fill(lons, lats, color=cmap(wk), alpha=0.25 + 0.5 * wk, lw=0)
            ax.plot(lons, lats, color="0.6", lw=0.4)
        if "pred_epicenter_lon" in g:
            ax.scatter(g["pred_epicenter_lon"], g["pred_epicenter_lat"], s=4 + 120 * w / max(w.max(), 1e-12), color="tab:blue",
                       alpha=0.6, label="patch predictions (size = weight)")
        ax.scatter([e["baseline_lon"]], [e["baseline_lat"]], marker="s", s=40, facecolor="none", edgecolor="0.3", label="patch-centre baseline")
        ax.scatter([e["true_lon"]], [e["true_lat"]], marker="*", s=180, color="tab:red", label="true epicentre")
        ax.scatter([e["pred_lon"]], [e["pred_lat"]], marker="X", s=90, color="k", label="answer")
        if np.isfinite(e.get("epicentre_r95_km", np.nan)):
            t = np.linspace(0, 2 * np.pi, 90)
            r = float(e["epicentre_r95_km"]) / KM_PER_DEG
            ax.plot(e["pred_lon"] + r * np.cos(t) / max(np.cos(np.radians(e["pred_lat"])), 0.1), e["pred_lat"] + r * np.sin(t),
                    "k:", lw=0.8)
        flag = "fallback" if int(e["fallback"]) else f"p={e['p_detectable']:.2f}"
        ax.set_title(f"{eid}  Mw {e['true_magnitude']:.1f}  SNR {e['truth_snr']:.1f}\n{e['error_km']:.1f} km ({flag}), "
                     f"Mw {e['pred_magnitude']:.2f}", fontsize=8)
        ax.set_xlabel("longitude (deg)")
        ax.set_ylabel("latitude (deg)")
        ax.set_aspect(1.0 / max(np.cos(np.radians(float(e["true_lat"]))), 0.1))
    for ax in axes.ravel()[len(ids):]:
        ax.axis("off")
    if ids:
        axes[0][0].legend(fontsize=6, loc="best")
    return save_figure(fig, path)


def plot_errors(ev: pd.DataFrame, path: Path) -> str:
    """Event errors of the answer and of the baselines against the truth SNR."""
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    snr = np.clip(ev["truth_snr"].to_numpy(float), 1e-2, None)
    ax[0].scatter(snr, ev["baseline_error_km"], s=12, color="0.6", label="patch centre")
    ax[0].scatter(snr, ev["error_km"], s=12, color="tab:blue", label="answer")
    ax[0].set_ylabel("epicentre error (km)")
    ax[1].scatter(snr, np.abs(ev["baseline_magnitude_error"]), s=12, color="0.6", label="training mean")
    ax[1].scatter(snr, np.abs(ev["magnitude_error"]), s=12, color="tab:blue", label="answer")
    ax[1].set_ylabel("|Mw error|")
    for a in ax:
        a.set_xscale("log")
        a.axvline(FACTOR, color="k", ls="--", lw=0.8)
        a.set_xlabel("truth peak |LOS| / turbulence std")
        a.legend(fontsize=7)
    return save_figure(fig, path)


def plot_magnitude(ev: pd.DataFrame, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(4.2, 4), layout="constrained")
    fb = ev["fallback"].to_numpy(int) == 1
    ax.scatter(ev.loc[~fb, "true_magnitude"], ev.loc[~fb, "pred_magnitude"], s=14, label="answered")
    ax.scatter(ev.loc[fb, "true_magnitude"], ev.loc[fb, "pred_magnitude"], s=14, marker="x", color="0.5", label="fallback")
    both = np.r_[ev["true_magnitude"].to_numpy(float), ev["pred_magnitude"].to_numpy(float)]
    if both.size:
        lo, hi = np.nanmin(both), np.nanmax(both)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlabel("true Mw")
    ax.set_ylabel("predicted Mw")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_run(preds: pd.DataFrame, ev: pd.DataFrame, out_dir: Path, history: pd.DataFrame, seed: int) -> list[str]:
    """All figures of one run in ``out_dir``; returns their file names."""
    out_dir = Path(out_dir)
    names = [plot_curves(history, out_dir / "curves.png")]
    if not len(ev):
        return names
    if len(preds) and "p_signal" in preds:
        names.append(plot_event_maps(preds, ev, out_dir / "event_maps.png", seed))
    names.append(plot_errors(ev, out_dir / "errors.png"))
    names.append(plot_magnitude(ev, out_dir / "magnitude.png"))
    return names


def _corner_grid(r: pd.Series, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n + 1) x (n + 1)`` pixel-edge longitudes and latitudes of a patch, bilinear in its four corners
    (``00`` first row/first column, ``01`` first row/last column, ``11`` last/last, ``10`` last/first)."""
    s = np.linspace(0.0, 1.0, n + 1)
    a, b = np.meshgrid(s, s, indexing="ij")  # a: row fraction, b: column fraction
    out = []
    for comp in ("lon", "lat"):
        c00, c01, c11, c10 = (float(r[f"corner_{k}_{comp}"]) for k in ("00", "01", "11", "10"))
        out.append((1 - a) * (1 - b) * c00 + (1 - a) * b * c01 + a * b * c11 + a * (1 - b) * c10)
    return out[0], out[1]


def plot_prediction(preds: pd.DataFrame, pixels: np.ndarray, doc: dict, path: Path) -> str:
    """``quakesar predict``'s map: each patch's wrapped phase drawn on its footprint (the interferogram as
    the models saw it), patch outlines shaded by detection probability, every model's answer with its 95 %
    circle, the physics inversion's answer when present and the catalog epicentre."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5), layout="constrained")
    n = pixels.shape[-1]
    mesh = None
    for k, (_, r) in enumerate(preds.iterrows()):
        lon, lat = _corner_grid(r, n)
        phase = np.angle(pixels[k, 1].astype(float) + 1j * pixels[k, 2].astype(float))
        mesh = ax.pcolormesh(lon, lat, phase, cmap="twilight", vmin=-np.pi, vmax=np.pi, shading="flat", rasterized=True)
        lats = [r[f"corner_{c}_lat"] for c in CORNERS + ("00",)]
        lons = [r[f"corner_{c}_lon"] for c in CORNERS + ("00",)]
        p = float(r.get("p_signal", 0.0))
        ax.plot(lons, lats, color=plt.get_cmap("Reds")(0.3 + 0.7 * p), lw=0.5 + 2.0 * p)
    if mesh is not None:
        fig.colorbar(mesh, ax=ax, shrink=0.7, label="wrapped phase (rad)")
    ev = doc["event"]
    t = np.linspace(0, 2 * np.pi, 90)
    markers = {"gated": ("X", "k"), "set": ("P", "tab:blue")}
    for a in doc["answers"]:
        m, c = markers.get(a["estimator"], ("o", "tab:green"))
        flag = "fallback" if a["fallback"] else f"p={a['p_detectable']:.2f}"
        ax.scatter([a["lon"]], [a["lat"]], marker=m, s=110, color=c, edgecolor="w", zorder=5,
                   label=f"{a['estimator']}: Mw {a['mw']:.2f} [{a['mw_lo']:.2f}, {a['mw_hi']:.2f}] ({flag})")
        if np.isfinite(a.get("epicentre_r95_km", np.nan)):
            rr = float(a["epicentre_r95_km"]) / KM_PER_DEG
            ax.plot(a["lon"] + rr * np.cos(t) / max(np.cos(np.radians(a["lat"])), 0.1), a["lat"] + rr * np.sin(t), ls=":",
                    color=c, lw=1.0)
    inv = doc.get("inversion")
    if inv and "lat" in inv:
        ax.scatter([inv["lon"]], [inv["lat"]], marker="D", s=70, color="tab:orange", edgecolor="k", zorder=5,
                   label=f"physics inversion: Mw {inv.get('mw', float('nan')):.2f}")
    ax.scatter([ev["longitude"]], [ev["latitude"]], marker="*", s=220, color="tab:red", edgecolor="k", zorder=6,
               label=f"catalog epicentre ({ev.get('magnitude_type') or 'M'} {ev.get('magnitude')})")
    ax.set_aspect(1.0 / max(np.cos(np.radians(float(ev["latitude"]))), 0.1))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(f"{ev['id']}: {len(preds)} patches", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)
