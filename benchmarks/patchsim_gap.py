"""The patch-level simulator's gap to the full pipeline: same events, same pair plan, patch by patch.

Question (issue 12, :mod:`quakesar.synthetic.patchsim`'s "Not modelled" list): how close are the patches
that the training-data tier simulates straight from the physics to the patches of the full pipeline
(:func:`quakesar.synthetic.scene.simulate_event` -> :func:`quakesar.interferogram.native.pipeline.process_scene`
-> :func:`quakesar.patches.tiling.tile_event`) for the same events, and how much faster is it?

Method
------
* Config: the small CI config ``.test/config.yaml`` (reduction 32, window 62 -> 16 px patches, all three
  subswaths), ``simulate.placement: centred`` so that every event has signal-bearing patches to compare
  (the config's own turbulence range otherwise). Events: real catalog events of the bundled catalog
  (``.test`` ids first, then the largest shallow onshore events of the main config's region), ``--events``.
* For each event the pair plan of :func:`~quakesar.synthetic.scene.plan_pair` (what ``simulate_event``
  draws internally) is passed to :func:`~quakesar.synthetic.patchsim.simulate_patches` (``plan=``), so
  both see the same fault, frame, dates, atmosphere and land cover; only the SLC chain differs.
* Per event, over the windows both produce (same ``patch_id``):

  - ``phase_corr_signal``: circular correlation ``|mean(za conj(zb))|`` of the unit phasors ``(i, q)/|z|``
    (what the model sees), mean over the signal-bearing patches (full pipeline's label), over those of them
    that are coherent (full pipeline's mean coherence >= ``COHERENT`` = 0.4: a signal label says only
    that ``|LOS| >= 1 cm`` somewhere, an incoherent patch carries no phase in either simulator), the
    noise floor ``sqrt(pi / 4 N)`` of two independent random phasor fields of ``N`` pixels, and its
    sign-flipped twin ``|mean(za zb)|`` (a wrong LOS sign would make it the larger), the mean phase offset
    ``angle(mean(za conj(zb)))`` and the same correlation over all patches;
  - ``coherence_mean_diff``: mean coherence channel, patchsim - full pipeline, and the per-pixel mean
    absolute difference;
  - labels: ``signal`` agreement fraction, ``snr`` median relative difference (windows with full-pipeline
    snr >= 1), ``peak_abs_los_m`` median relative difference (peak >= 5 mm);
  - time: full pipeline (simulate + process with 1 thread + tile) vs patchsim with its own plan (the tier's
    path: ground fields at the sub-sample spacing, plan included); ``speed_ratio`` = full / patchsim.
* Attribution (default run only): the first ``--attribution`` events again with the full pipeline's two
  unmodelled steps switched off one at a time, ``simulate.misregistration_max_px: 0`` (no coregistration
  residual) and ``interferogram.goldstein.enabled: false``; a metric that moves towards patchsim there
  is (partly) explained by that step. Compare with ``summary.baseline_on_attribution_events``.
* Baseline: the full pipeline, run in the same process on the same events. Single-threaded
  (``process_scene(threads=1)``, ``OMP_NUM_THREADS=1`` set before numpy is imported).

The 1-minute load average before and after each event is recorded. Writes
``benchmarks/results/patchsim_gap.json``.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/patchsim_gap.py            # 10 events, about 2-3 minutes
    PYTHONPATH=src .venv/bin/python benchmarks/patchsim_gap.py --quick    # 2 events, under 2 minutes
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from quakesar.atomic import write_json  # noqa: E402
from quakesar.catalog.stage import load_selection  # noqa: E402
from quakesar.config import load_config  # noqa: E402
from quakesar.interferogram.native.pipeline import process_scene  # noqa: E402
from quakesar.patches.tiling import tile_event  # noqa: E402
from quakesar.synthetic.patchsim import PatchLayout, simulate_patches  # noqa: E402
from quakesar.synthetic.scene import plan_pair, simulate_event  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "patchsim_gap.json"
#: signal patches whose full-pipeline mean coherence is at least this carry a usable phase
COHERENT = 0.4


def pick_events(cfg: dict, n: int) -> list[dict]:
    """``n`` event records: the small config's ids, then the main config's largest shallow events."""
    cat = {**cfg["catalog"], "path": str(ROOT / cfg["catalog"]["path"])}
    recs = [e.stable_record() for e in load_selection(cat).events]
    if len(recs) < n:
        main = load_config(ROOT / "config" / "config.yaml")["catalog"]
        more = [e.stable_record() for e in load_selection({**main, "path": str(ROOT / main["path"])}).events]
        have = {r["id"] for r in recs}
        recs += sorted((r for r in more if r["id"] not in have), key=lambda r: (-float(r["mw"]), r["id"]))
    return recs[:n]


def unit(z: np.ndarray) -> np.ndarray:
    a = np.abs(z)
    return np.where(a > 1e-12, z / np.where(a > 1e-12, a, 1.0), 0)


def compare(full: pd.DataFrame, full_pix: np.ndarray, fast: pd.DataFrame, pix: np.ndarray) -> dict:
    """Per-event agreement of the patches both produce (see module doc)."""
    f = full.set_index("patch_id")
    s = fast.set_index("patch_id")
    common = [p for p in f.index if p in s.index]
    f, s = f.loc[common], s.loc[common]
    a = pix[s["h5_index"].to_numpy(int)].astype(np.float64)
    b = full_pix[f["h5_index"].to_numpy(int)].astype(np.float64)
    za, zb = unit(a[:, 1] + 1j * a[:, 2]), unit(b[:, 1] + 1j * b[:, 2])
    cross = np.mean(za * np.conj(zb), axis=(1, 2))
    flip = np.abs(np.mean(za * zb, axis=(1, 2)))
    sig = f["signal"].to_numpy() == 1
    valid = np.isfinite(b[:, 0]).all(axis=(1, 2))
    snr_ok = f["snr"].to_numpy(float) >= 1.0
    big = f["peak_abs_los_m"].to_numpy(float) >= 0.005
    coh_full = np.nanmean(b[:, 0], axis=(1, 2))
    coherent = sig & (coh_full >= COHERENT)

    def mean(v: np.ndarray) -> float | None:
        return round(float(np.mean(v)), 4) if len(v) else None

    def med_rel(x: np.ndarray, y: np.ndarray) -> float | None:
        return round(float(np.median(np.abs(x - y) / np.abs(y))), 4) if len(x) else None

    return {"patches_full": int(len(full)), "patches_patchsim": int(len(fast)), "patches_common": len(common),
            "same_windows": bool(list(full["patch_id"]) == list(fast["patch_id"])),
            "signal_patches_full": int(sig.sum()), "signal_patches_patchsim": int((s["signal"].to_numpy() == 1).sum()),
            "phase_corr_signal": mean(np.abs(cross[sig])), "phase_corr_signal_min": round(float(np.abs(cross[sig]).min()), 4) if sig.any() else None,
            "phase_corr_signal_flipped": mean(flip[sig]),
            "signal_patches_coherent": int(coherent.sum()), "phase_corr_signal_coherent": mean(np.abs(cross[coherent])),
            "phase_corr_signal_coherent_min": round(float(np.abs(cross[coherent]).min()), 4) if coherent.any() else None,
            "phase_corr_noise_floor": round(float(np.sqrt(np.pi / (4 * za[0].size))), 4),
            "phase_offset_signal_rad": round(float(np.angle(np.mean(cross[sig]))), 4) if sig.any() else None,
            "phase_corr_all": mean(np.abs(cross)),
            "coherence_mean_full": round(float(np.nanmean(b[:, 0])), 4), "coherence_mean_patchsim": round(float(np.mean(a[:, 0])), 4),
            "coherence_mean_diff": round(float(np.mean(a[valid, 0]) - np.mean(b[valid, 0])), 4),
            "coherence_mae": round(float(np.mean(np.abs(a[valid, 0] - b[valid, 0]))), 4),
            "signal_agreement": round(float(np.mean(f["signal"].to_numpy() == s["signal"].to_numpy())), 4),
            "signal_confusion": {"both": int((sig & (s["signal"].to_numpy() == 1)).sum()),
                                 "full_only": int((sig & (s["signal"].to_numpy() != 1)).sum()),
                                 "patchsim_only": int((~sig & (s["signal"].to_numpy() == 1)).sum())},
            "snr_median_rel_diff": med_rel(s["snr"].to_numpy(float)[snr_ok], f["snr"].to_numpy(float)[snr_ok]),
            "peak_los_median_rel_diff": med_rel(s["peak_abs_los_m"].to_numpy(float)[big], f["peak_abs_los_m"].to_numpy(float)[big])}


def run_event(ev: dict, cfg: dict, sim: dict, layout: PatchLayout, tmp: Path, tag: str = "") -> dict:
    seed = int(cfg["seed"])
    load0 = os.getloadavg()[0]
    d = tmp / f"{ev['id']}{tag}"
    d.mkdir()
    scenes = {iw: d / f"scene_{iw}.h5" for iw in sim["subswaths"]}
    t0 = time.perf_counter()
    simulate_event(ev, sim, seed, scenes)
    t1 = time.perf_counter()
    ifgs = []
    for iw, sc in scenes.items():
        ifgs.append(d / f"{iw}.h5")
        process_scene(sc, ifgs[-1], cfg["interferogram"], threads=1)
    t2 = time.perf_counter()
    tile_event(ev, ifgs, cfg["patches"], d / "p.h5", d / "p.csv")
    t3 = time.perf_counter()
    full = pd.read_csv(d / "p.csv", dtype={"patch_id": str})
    with h5py.File(d / "p.h5") as f:
        full_pix = f["patches"][()]
    t4 = time.perf_counter()
    simulate_patches(ev, sim, layout, seed)                                # the tier's path: own (coarse) plan
    t5 = time.perf_counter()
    pix, rows, _ = simulate_patches(ev, sim, layout, seed, plan=plan_pair(ev, sim, seed))   # the full pipeline's plan
    t6 = time.perf_counter()
    r = {"event_id": ev["id"], "mw": float(ev["mw"]), "depth_km": float(ev["depth_km"]),
         **compare(full, full_pix, pd.DataFrame(rows).astype({"patch_id": str}), pix),
         "full_s": round(t3 - t0, 3), "full_simulate_s": round(t1 - t0, 3), "full_interferogram_s": round(t2 - t1, 3),
         "full_tile_s": round(t3 - t2, 3), "patchsim_s": round(t5 - t4, 3), "patchsim_same_plan_s": round(t6 - t5, 3),
         "speed_ratio": round((t3 - t0) / (t5 - t4), 1),
         "load_avg_1min_before": round(load0, 2), "load_avg_1min_after": round(os.getloadavg()[0], 2)}
    for p in d.iterdir():
        p.unlink()
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2 events (< 2 min)")
    p.add_argument("--events", type=int, default=10)
    p.add_argument("--attribution", type=int, default=3, help="events rerun without misregistration / Goldstein (0 in --quick)")
    p.add_argument("--config", type=Path, default=ROOT / ".test" / "config.yaml")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    cfg = load_config(a.config)
    sim = {**cfg["simulate"], "placement": "centred"}
    layout = PatchLayout.from_config(cfg["interferogram"], cfg["patches"])
    events = pick_events(cfg, 2 if a.quick else a.events)
    results = []
    attribution = {}
    with tempfile.TemporaryDirectory() as tmp:
        for ev in events:
            r = run_event(ev, cfg, sim, layout, Path(tmp))
            print(json.dumps(r), flush=True)
            results.append(r)
        n_attr = 0 if a.quick else min(a.attribution, len(events))
        variants = {"no_misregistration": ({**sim, "misregistration_max_px": 0.0}, cfg),
                    "no_goldstein": (sim, {**cfg, "interferogram": {**cfg["interferogram"],
                                                                   "goldstein": {**cfg["interferogram"]["goldstein"], "enabled": False}}})}
        for name, (sim_v, cfg_v) in variants.items():
            if not n_attr:
                break
            rs = []
            for ev in events[:n_attr]:
                r = run_event(ev, cfg_v, sim_v, layout, Path(tmp), tag=f"-{name}")
                print(json.dumps({"variant": name, **r}), flush=True)
                rs.append(r)
            attribution[name] = {"summary": summarise(rs), "results": rs}
    summary = summarise(results)
    if attribution:
        summary["baseline_on_attribution_events"] = summarise(results[:n_attr])
    out = {"benchmark": "patchsim_gap", "machine": f"{platform.machine()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}",
           "quick": a.quick, "config": str(a.config.relative_to(ROOT) if a.config.is_relative_to(ROOT) else a.config),
           "settings": {"reduction": sim["reduction"], "subswaths": sim["subswaths"], "placement": sim["placement"],
                        "turbulence_std_m": sim["turbulence_std_m"], "misregistration_max_px": sim["misregistration_max_px"],
                        "goldstein": cfg["interferogram"]["goldstein"]["enabled"], "window": cfg["patches"]["window"],
                        "size": cfg["patches"]["size"]},
           "baseline": "full pipeline (simulate -> native interferogram, 1 thread -> tile), same events and pair plans",
           "summary": summary, "attribution": attribution, "results": results}
    write_json(a.out, out)
    print(json.dumps(summary))
    print(f"-> {a.out}")
    return 0


def summarise(results: list[dict]) -> dict:
    """Means (and minima) over events of the per-event agreement and the total speed ratio."""
    def agg(key: str, fn=np.mean) -> float | None:
        v = [r[key] for r in results if r.get(key) is not None]
        return round(float(fn(v)), 4) if v else None

    return {"events": len(results), "phase_corr_signal_mean": agg("phase_corr_signal"), "phase_corr_signal_min": agg("phase_corr_signal_min", np.min),
            "phase_corr_signal_coherent_mean": agg("phase_corr_signal_coherent"),
            "phase_corr_signal_coherent_min": agg("phase_corr_signal_coherent_min", np.min),
            "signal_patches_coherent": int(sum(r["signal_patches_coherent"] for r in results)),
            "signal_patches": int(sum(r["signal_patches_full"] for r in results)),
            "phase_corr_noise_floor": results[0]["phase_corr_noise_floor"] if results else None,
            "phase_corr_signal_flipped_mean": agg("phase_corr_signal_flipped"), "phase_corr_all_mean": agg("phase_corr_all"),
            "phase_offset_signal_rad_mean_abs": round(float(np.mean([abs(r["phase_offset_signal_rad"]) for r in results
                                                                      if r["phase_offset_signal_rad"] is not None])), 4)
            if any(r["phase_offset_signal_rad"] is not None for r in results) else None,
            "coherence_mean_diff_mean": agg("coherence_mean_diff"), "coherence_mae_mean": agg("coherence_mae"),
            "signal_agreement_mean": agg("signal_agreement"), "signal_agreement_min": agg("signal_agreement", np.min),
            "snr_median_rel_diff_median": agg("snr_median_rel_diff", np.median),
            "peak_los_median_rel_diff_median": agg("peak_los_median_rel_diff", np.median),
            "all_same_windows": all(r["same_windows"] for r in results),
            "full_s_total": round(sum(r["full_s"] for r in results), 2), "patchsim_s_total": round(sum(r["patchsim_s"] for r in results), 3),
            "speed_ratio_total": round(sum(r["full_s"] for r in results) / sum(r["patchsim_s"] for r in results), 1)}


if __name__ == "__main__":
    sys.exit(main())
