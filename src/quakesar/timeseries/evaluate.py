"""Evaluation of a trained time-series auto-encoder against the baselines, in one run (issue 15).

Every evaluation set is simulated afresh with the checkpoint's simulator settings and ids that no
training or validation sample has (``evaldet-...``, ``evalrmse-...``), deterministic from the seed.

* **Detection limit** per noise level sigma (turbulent std of one pair, :mod:`quakesar.timeseries.settings`):
  coseismic steps scaled to each peak |LOS| of a grid, ``samples_per_peak`` each, and ``negatives``
  series without deformation. A detector's threshold is the ``1 - false_alarm`` quantile of its scores on
  the negatives (false-alarm rate <= 5 %); the **detection limit** is the smallest grid peak from which on
  every larger grid peak is detected in >= ``detection_rate`` (90 %) of samples (``null``: not reached on
  the grid), plus the log-linear interpolation of the 90 % crossing. Detectors: "autoencoder", the
  detection head's score; "autoencoder_map", the peak of |smoothed| denoised map (the auto-encoder's
  output read the way Rouet-Leduc et al. read theirs); "stack_blind": the same on the date-blind stack
  (:func:`~quakesar.timeseries.baselines.blind_stack`); "stack" and "pair": the peak of |Gaussian-smoothed (sigma 2 px)| plain stack / shortest spanning pair
  (:mod:`quakesar.timeseries.baselines`).
* **Denoising RMSE** (mm) of the referenced cumulative deformation on signal-bearing series at one noise
  level (peaks and kinds as in training): auto-encoder, best single pair (oracle pick), plain stack
  (true date), date-blind stack.
* **Detectable magnitude** for shallow events (the Funning & Garcia 2019 question): faults of the
  catalog's shallow depths (``depth <= shallow_max_depth_km`` of the bundled catalog), random mechanism
  and pass, at each Mw of a grid; peak |LOS| on a 60 km square at 300 m around the epicentre (Okada). For
  each detection limit, the smallest Mw at which >= 50 % (and >= 90 %) of such events reach it: with the
  series (the auto-encoder's limit), with a single pair (the measured "pair" limit, and the project's
  one-interferogram rule ``peak >= 3 sigma`` of :mod:`quakesar.detectability`).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from quakesar import convention, detectability
from quakesar.rng import event_rng
from quakesar.synthetic.mechanism import draw_fault
from quakesar.timeseries.baselines import best_pair, blind_stack, event_masks, shortest_pair, stack_mean
from quakesar.timeseries.dataset import SeriesArrays, arrays_from_samples
from quakesar.timeseries.settings import SeriesSettings
from quakesar.timeseries.simulate import simulate_sample, tile_coordinates
from quakesar.timeseries.tensors import INPUT_SCALE_M, model_input, referenced
from quakesar.timeseries.train import load_checkpoint, resolve_device

log = logging.getLogger("quakesar.timeseries.evaluate")

EVAL_DEFAULTS: dict[str, Any] = {
    "noise_std_m": [0.005, 0.01, 0.02], "peaks_m": [0.001, 0.002, 0.003, 0.005, 0.008, 0.013, 0.02, 0.03, 0.05],
    "samples_per_peak": 40, "negatives": 200, "rmse_samples": 200, "rmse_noise_std_m": 0.01, "detection_rate": 0.9,
    "false_alarm": 0.05, "batch_size": 64, "mw": [4.0, 6.5, 0.1], "magnitude_draws": 24, "shallow_max_depth_km": 10.0,
    "reference_noise_std_m": 0.01}


def eval_settings(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """``EVAL_DEFAULTS`` updated with ``cfg`` (unknown keys are an error naming the key)."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(EVAL_DEFAULTS))
    if unknown:
        raise ValueError(f"timeseries.evaluate: unknown keys {unknown}; expected some of {sorted(EVAL_DEFAULTS)}")
    return {**EVAL_DEFAULTS, **cfg}


def predict_arrays(net: torch.nn.Module, series: np.ndarray, dem: np.ndarray, batch_size: int = 64,
                   device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """``(deformation [M, H, W] m, score [M] in 0..1)`` of the model on referenced series."""
    net.eval()
    defs, scores = [], []
    with torch.no_grad():
        for s0 in range(0, series.shape[0], batch_size):
            x, d = model_input(series[s0:s0 + batch_size], dem[s0:s0 + batch_size])
            pred, logit = net(torch.from_numpy(x).to(device), torch.from_numpy(d).to(device))
            defs.append(pred.cpu().numpy() * INPUT_SCALE_M)
            scores.append(torch.sigmoid(logit).cpu().numpy())
    return np.concatenate(defs), np.concatenate(scores)


def _peak_score(maps: np.ndarray) -> np.ndarray:
    return np.array([np.abs(gaussian_filter(m, 2.0, mode="nearest")).max() for m in maps])


def detection_limit(peaks: Sequence[float], rates: Sequence[float], rate: float) -> tuple[float | None, float | None]:
    """(grid limit, interpolated limit): smallest grid peak from which all rates >= ``rate``; the 90 % crossing
    interpolated linearly in log(peak) between the last failing and the first passing grid peak."""
    peaks, rates = list(map(float, peaks)), list(map(float, rates))
    i = len(peaks)
    while i > 0 and rates[i - 1] >= rate:
        i -= 1
    if i == len(peaks):
        return None, None
    if i == 0:
        return peaks[0], peaks[0]
    p0, p1, r0, r1 = peaks[i - 1], peaks[i], rates[i - 1], rates[i]
    t = (rate - r0) / (r1 - r0) if r1 > r0 else 1.0
    return peaks[i], float(math.exp(math.log(p0) + t * (math.log(p1) - math.log(p0))))


def _detectors(net: torch.nn.Module, data: SeriesArrays, bs: int, device: torch.device) -> dict[str, np.ndarray]:
    pred, score = predict_arrays(net, data.series, data.dem, bs, device)
    pre, post = event_masks(data.time_function, data.truth["event_index"])
    return {"autoencoder": score, "autoencoder_map": _peak_score(pred), "stack": _peak_score(stack_mean(data.series, pre, post)),
            "stack_blind": _peak_score(blind_stack(data.series)[0]),
            "pair": _peak_score(shortest_pair(data.series, pre, post))}


def detection_curves(net: torch.nn.Module, settings: SeriesSettings, cfg: Mapping[str, Any], seed: int,
                     device: torch.device) -> list[dict[str, Any]]:
    """Per noise level: each detector's threshold, detection rate per peak, and its detection limit."""
    out = []
    bs = int(cfg["batch_size"])
    for sigma in cfg["noise_std_m"]:
        tag = f"{float(sigma):.4f}"
        negs = arrays_from_samples([simulate_sample(f"evaldet-neg-{tag}-{i:05d}", settings, seed, kind="none",
                                                    turbulence_std_m=sigma) for i in range(int(cfg["negatives"]))], settings)
        neg_scores = _detectors(net, negs, bs, device)
        thresholds = {k: float(np.quantile(v, 1.0 - float(cfg["false_alarm"]))) for k, v in neg_scores.items()}
        rates: dict[str, list[float]] = {k: [] for k in neg_scores}
        for peak in cfg["peaks_m"]:
            pos = arrays_from_samples([simulate_sample(f"evaldet-pos-{tag}-{i:05d}", settings, seed, kind="coseismic",
                                                       peak_m=peak, turbulence_std_m=sigma)
                                       for i in range(int(cfg["samples_per_peak"]))], settings)
            for k, v in _detectors(net, pos, bs, device).items():
                rates[k].append(float(np.mean(v > thresholds[k])))
        row: dict[str, Any] = {"noise_std_m": float(sigma), "peaks_m": [float(p) for p in cfg["peaks_m"]], "detectors": {}}
        for k in rates:
            grid, interp = detection_limit(cfg["peaks_m"], rates[k], float(cfg["detection_rate"]))
            far = float(np.mean(neg_scores[k] > thresholds[k]))
            row["detectors"][k] = {"threshold": thresholds[k], "false_alarm": far, "rates": rates[k],
                                   "limit_m": grid, "limit_interpolated_m": interp}
        log.info("sigma %.1f mm: detection limits (mm) %s", 1e3 * sigma,
                 {k: (None if v["limit_m"] is None else round(1e3 * v["limit_m"], 2)) for k, v in row["detectors"].items()})
        out.append(row)
    return out


def _rmse_mm(est: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return 1e3 * np.sqrt(((est - truth) ** 2).mean(axis=(1, 2)))


def denoising_rmse(net: torch.nn.Module, settings: SeriesSettings, cfg: Mapping[str, Any], seed: int,
                   device: torch.device) -> dict[str, Any]:
    """RMSE (mm) of auto-encoder, best pair and stack on signal-bearing series at ``rmse_noise_std_m``."""
    kinds = {k: v for k, v in settings.kinds.items() if k != "none" and v > 0} or {"coseismic": 1.0}
    s = SeriesSettings(**{**settings.as_dict(), "kinds": kinds})
    sigma = float(cfg["rmse_noise_std_m"])
    data = arrays_from_samples([simulate_sample(f"evalrmse-{i:05d}", s, seed, turbulence_std_m=sigma)
                                for i in range(int(cfg["rmse_samples"]))], s)
    truth = referenced(data.cumulative)
    pred, _ = predict_arrays(net, data.series, data.dem, int(cfg["batch_size"]), device)
    pre, post = event_masks(data.time_function, data.truth["event_index"])
    per = {"autoencoder": _rmse_mm(pred, truth), "best_pair": _rmse_mm(best_pair(data.series, pre, post, data.cumulative), truth),
           "stack": _rmse_mm(stack_mean(data.series, pre, post), truth),
           "stack_blind": _rmse_mm(blind_stack(data.series)[0], truth)}
    peaks = data.truth["peak_abs_los_m"]
    bins = [(0.0, 0.003), (0.003, 0.01), (0.01, 0.03), (0.03, math.inf)]
    out: dict[str, Any] = {"noise_std_m": sigma, "samples": len(data), "kinds": kinds,
                           "rmse_mm": {k: float(np.sqrt(np.mean(v ** 2))) for k, v in per.items()},
                           "median_rmse_mm": {k: float(np.median(v)) for k, v in per.items()}, "by_peak": []}
    for lo, hi in bins:
        sel = (peaks >= lo) & (peaks < hi)
        out["by_peak"].append({"peak_min_m": lo, "peak_max_m": None if math.isinf(hi) else hi, "samples": int(sel.sum()),
                               "rmse_mm": {k: (float(np.sqrt(np.mean(v[sel] ** 2))) if sel.any() else None) for k, v in per.items()}})
    log.info("denoising RMSE (mm) at sigma %.1f mm: %s", 1e3 * sigma, {k: round(v, 3) for k, v in out["rmse_mm"].items()})
    return out


def shallow_depths_km(catalog_csv: str | Path | None, max_depth_km: float) -> np.ndarray:
    """Depths (km) of the catalog's events no deeper than ``max_depth_km`` (ComCat CSV column ``depth``)."""
    if catalog_csv is None:
        return np.linspace(1.0, max_depth_km, 10)
    import pandas as pd

    path = Path(catalog_csv)
    try:
        depth = pd.read_csv(path, usecols=["depth"])["depth"].to_numpy(dtype=np.float64)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{path}: expected a ComCat CSV with a numeric 'depth' column ({exc})") from None
    depth = depth[np.isfinite(depth) & (depth <= max_depth_km)]
    if depth.size == 0:
        raise ValueError(f"{path}: no event shallower than {max_depth_km} km")
    return np.maximum(depth, 0.0)


def peak_los_table(mws: np.ndarray, depths_km: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """``[len(mws), draws]`` peak |LOS| (m) of random shallow faults (Okada, 60 km square at 300 m)."""
    east, north = tile_coordinates(200, 300.0)
    out = np.zeros((len(mws), draws))
    for i, mw in enumerate(mws):
        for j in range(draws):
            rng = event_rng(seed, f"evalmag-{j:04d}", "ts/magnitude")
            depth = float(depths_km[int(rng.integers(0, len(depths_km)))])
            u_inc, u_pass = rng.random(2)
            fault = draw_fault({"mw": float(mw), "depth_km": depth}, {}, rng, source="magnitude table")
            ue, un, uu = fault.displacement_enu(east, north)
            heading = convention.HEADING_ASCENDING_DEG if u_pass < 0.5 else convention.HEADING_DESCENDING_DEG
            out[i, j] = float(np.abs(convention.enu_to_los(ue, un, uu, 30.0 + 16.0 * u_inc, heading)).max())
    return out


def _smallest_mw(mws: np.ndarray, frac: np.ndarray, level: float) -> float | None:
    ok = np.flatnonzero(frac >= level)
    return float(mws[ok[0]]) if ok.size else None


def detectable_magnitude(curves: list[dict[str, Any]], cfg: Mapping[str, Any], seed: int,
                         catalog_csv: str | Path | None) -> dict[str, Any]:
    """Smallest Mw at which 50 % / 90 % of shallow catalog-depth events reach each detection limit."""
    lo, hi, step = (float(v) for v in cfg["mw"])
    mws = np.round(np.arange(lo, hi + 0.5 * step, step), 4)
    depths = shallow_depths_km(catalog_csv, float(cfg["shallow_max_depth_km"]))
    table = peak_los_table(mws, depths, int(cfg["magnitude_draws"]), seed)
    sigma = float(cfg["reference_noise_std_m"])
    row = min(curves, key=lambda r: abs(r["noise_std_m"] - sigma))
    limits = {f"series_{k}" if k != "pair" else "single_pair_measured": v["limit_interpolated_m"]
              for k, v in row["detectors"].items()}
    limits["single_pair_3sigma_rule"] = detectability.FACTOR * row["noise_std_m"]
    out: dict[str, Any] = {"noise_std_m": row["noise_std_m"], "depths": {"max_depth_km": float(cfg["shallow_max_depth_km"]),
                           "catalog_events": int(depths.size), "median_km": float(np.median(depths))},
                           "mw": mws.tolist(), "median_peak_m": np.median(table, axis=1).tolist(), "limits_m": limits,
                           "mw_50": {}, "mw_90": {}, "fraction_detectable": {}}
    for name, limit in limits.items():
        if limit is None:
            out["mw_50"][name] = out["mw_90"][name] = None
            continue
        frac = (table >= limit).mean(axis=1)
        out["fraction_detectable"][name] = frac.tolist()
        out["mw_50"][name] = _smallest_mw(mws, frac, 0.5)
        out["mw_90"][name] = _smallest_mw(mws, frac, 0.9)
    log.info("shallow events detectable (50 %%) from Mw %s", out["mw_50"])
    return out


def evaluate(checkpoint: str | Path, cfg: Mapping[str, Any] | None, seed: int, *, catalog_csv: str | Path | None = None,
             device: str = "auto", threads: int = 1) -> dict[str, Any]:
    """All three measurements of a checkpoint (module docstring); a JSON-ready dict."""
    torch.set_num_threads(int(threads))
    cfg = eval_settings(cfg)
    dev = resolve_device(device)
    net, ckpt = load_checkpoint(checkpoint, dev)
    settings = SeriesSettings.from_config(ckpt["settings"])
    t0 = time.time()
    curves = detection_curves(net, settings, cfg, seed, dev)
    t1 = time.time()
    rmse = denoising_rmse(net, settings, cfg, seed, dev)
    t2 = time.time()
    mag = detectable_magnitude(curves, cfg, seed, catalog_csv)
    return {"checkpoint": str(checkpoint), "best_epoch": ckpt.get("epoch"), "seed": int(seed), "device": str(dev),
            "settings": settings.as_dict(), "evaluate": dict(cfg), "detection": curves, "denoising": rmse, "magnitude": mag,
            "seconds": {"detection": round(t1 - t0, 2), "denoising": round(t2 - t1, 2), "magnitude": round(time.time() - t2, 2)}}
