"""``quakesar predict``: the trained models' event answer on any canonical interferograms.

Input: one event (a catalog record: the epicentre and time are used only to lay out and label the
patches and to report the catalog answer beside the model's), its canonical interferograms (the
synthetic/native/SNAP ones or the pseudo-radar ``ext_*.h5`` of imported LiCSAR/HyP3/generic products,
:mod:`quakesar.external`), and one or more run directories (``results/models/gated/...`` and/or
``results/models/set/...``). Steps, each the same code as training and evaluation:

1. tile the interferograms with the ``patches`` config (:func:`quakesar.patches.tiling.tile_event`);
2. the gated model's patch outputs (:func:`quakesar.learning.train.predict`), its event combination
   (:func:`quakesar.learning.evaluate.event_table`); for a set run, its attention pooling over the same
   gated outputs (:mod:`quakesar.learning.setmodel`);
3. the run's own validation calibration (Platt) and 95 % conformal intervals, stored in its checkpoint,
   and the fallback answer when the verdict is "not detectable" (:func:`quakesar.learning.evaluate.finalise`).

Output: a JSON with one answer per run (``p_detectable``, ``detectable``, ``fallback``, ``lat``, ``lon``,
``epicentre_r95_km``, ``mw`` with ``mw_lo``/``mw_hi``), the catalog event, the physics inversion's answer
when a ``results/inversion/{event}.json`` (or ``--inversion``) exists, and a map figure.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from quakesar.atomic import write_json
from quakesar.geodesy import haversine_km
from quakesar.learning.data import InputNorm, PatchArrays, arrays, read_table
from quakesar.learning.evaluate import event_table, finalise, patch_predictions
from quakesar.learning.event_level import Calibration, Intervals
from quakesar.learning.tasks import LossContext, get_tasks
from quakesar.learning.train import load_gated, predict

log = logging.getLogger("quakesar.learning.predict")


def _checkpoint(run: Path) -> Path:
    run = Path(run)
    ck = run / "checkpoint.pt" if run.is_dir() else run
    if not ck.is_file():
        raise FileNotFoundError(f"{ck}: no model checkpoint (give a run directory results/models/<estimator>/<model>/<run>)")
    return ck


def _estimator(ck: Path) -> tuple[str, dict[str, Any]]:
    try:
        obj = torch.load(ck, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as exc:
        raise OSError(f"{ck}: cannot read the model checkpoint ({exc})") from exc
    meta = obj.get("meta") or {}
    if meta.get("estimator") not in ("gated", "set"):
        raise ValueError(f"{ck}: not a gated or set model checkpoint of this version")
    return str(meta["estimator"]), obj


def patch_table(event: dict[str, Any], interferograms: list[Path], patches_cfg: dict[str, Any], work: Path) -> pd.DataFrame:
    """Tile the interferograms of ``event`` into ``work`` and read the patch table."""
    from quakesar.patches.tiling import tile_event

    h5, csv = work / f"{event['id']}.h5", work / f"{event['id']}.csv"
    tile_event(event, [Path(p) for p in interferograms], patches_cfg, h5, csv)
    df = pd.read_csv(csv)
    if df.empty:
        raise ValueError(f"{event['id']}: no patch could be cut from {[str(p) for p in interferograms]} "
                         f"(window {patches_cfg.get('window')} px; too small or too little valid data)")
    df["h5_path"], df["split"] = h5.name, "predict"
    df.to_csv(csv, index=False)
    return read_table(csv, "predict")


def _finish(raw: pd.DataFrame, calib: dict[str, Any], fallback: str) -> pd.DataFrame:
    c = calib.get("calibration", {})
    cal = Calibration(float(c.get("a", 1.0)), float(c.get("b", 0.0)), bool(c.get("fitted", False)))
    iv = calib.get("intervals", {})
    ev = finalise(raw, cal, fallback)
    return Intervals(iv["epicentre_r95_km"], iv["magnitude_halfwidth"]).apply(ev) if iv else ev


def answer_event(runs: list[Path], arr: PatchArrays, device: str = "cpu") -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Every run's event answer on one event's patches, and the first run's patch predictions."""
    from quakesar.learning.setmodel import EventSetNet, _table_events, bag_events, make_bags, patch_features

    answers, patch_preds = [], pd.DataFrame()
    cache: dict[str, tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, Any]]] = {}

    def gated_outputs(ck: Path) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, Any]]:
        if str(ck) not in cache:
            net, meta = load_gated(ck, device)
            out = predict(net, arr, InputNorm(**meta["norm"]), torch.device(device))
            preds = patch_predictions(arr.table, out, get_tasks(list(meta["tasks"])), LossContext(meta["mw_mean"], meta["mw_std"]))
            cache[str(ck)] = (preds, out, meta)
        return cache[str(ck)]

    for run in runs:
        ck = _checkpoint(run)
        kind, obj = _estimator(ck)
        meta = obj["meta"]
        if kind == "gated":
            preds, _, gmeta = gated_outputs(ck)
            raw = event_table(preds, get_tasks(list(gmeta["tasks"])), float(gmeta["weight_power"]), gmeta["prior"])
            ev = _finish(raw, gmeta.get("calibration", {}), "prior")
            if patch_preds.empty:
                patch_preds = preds
        else:
            gck = Path(meta["gated_checkpoint"])
            if not gck.is_file():  # the run directory was moved: its sibling gated run of the same model and run name
                gck = ck.parents[3] / "gated" / ck.parents[1].name / ck.parent.name / "checkpoint.pt"
            preds, out, gmeta = gated_outputs(_checkpoint(gck))
            bags = make_bags(preds, patch_features(preds, out, (gmeta["mw_mean"], gmeta["mw_std"])), meta["prior"])
            model = EventSetNet(int(meta["in_dim"]), int(meta["hidden"]))
            model.load_state_dict(obj["model"])
            raw, _ = bag_events(model, bags, LossContext(meta["mw_mean"], meta["mw_std"]), meta["prior"])
            ev = _finish(_table_events(preds, raw, meta["prior"]), meta.get("calibration", {}), "model")
            if patch_preds.empty:
                patch_preds = preds
        r = ev.iloc[0]
        answers.append({"run": str(ck.parent), "estimator": kind, "p_detectable": float(r["p_detectable"]),
                        "detectable": int(r["detectable"]), "fallback": int(r["fallback"]), "lat": float(r["pred_lat"]),
                        "lon": float(r["pred_lon"]), "epicentre_r95_km": float(r.get("epicentre_r95_km", np.nan)),
                        "mw": float(r["pred_magnitude"]), "mw_lo": float(r.get("pred_magnitude_lo", np.nan)),
                        "mw_hi": float(r.get("pred_magnitude_hi", np.nan)), "model_lat": float(r["model_lat"]),
                        "model_lon": float(r["model_lon"]), "model_mw": float(r["model_magnitude"]), "n_patches": int(r["n_patches"])})
    return answers, patch_preds


def predict_event(event: dict[str, Any], interferograms: list[Path], runs: list[Path], config: dict[str, Any], out_json: Path,
                  figure: Path | None = None, inversion_json: Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """The whole ``quakesar predict`` (module docstring); writes ``out_json`` (and ``figure``), returns the document."""
    if not runs:
        raise ValueError("give at least one model run (--models results/models/gated/<model>/<run> ...)")
    if not interferograms:
        raise ValueError("give the event's canonical interferograms (--interferograms A.h5 ...)")
    for r in runs:
        _checkpoint(r)
    missing = [str(p) for p in interferograms if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"interferogram(s) not found: {missing}")
    with tempfile.TemporaryDirectory(prefix="quakesar-predict-") as tmp:
        arr = arrays(patch_table(event, interferograms, dict(config.get("patches") or {}), Path(tmp)))
        answers, preds = answer_event(runs, arr, device)
    doc: dict[str, Any] = {"event": {k: event.get(k) for k in ("id", "time", "latitude", "longitude", "depth_km", "magnitude",
                                                               "magnitude_type")},
                           "interferograms": [str(p) for p in interferograms], "answers": answers}
    for a in answers:
        a["catalog_distance_km"] = float(haversine_km(float(event["latitude"]), float(event["longitude"]), a["lat"], a["lon"]))
    inv = Path(inversion_json) if inversion_json else Path(config.get("results", "results")) / "inversion" / f"{event['id']}.json"
    if inv.is_file():
        doc["inversion"] = json.loads(inv.read_text())
    if figure is not None:
        from quakesar.learning.plots import plot_prediction

        plot_prediction(preds, arr.pixels, doc, Path(figure))
        doc["figure"] = str(figure)
    write_json(Path(out_json), doc)
    return doc
