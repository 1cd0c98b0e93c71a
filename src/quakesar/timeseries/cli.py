"""``quakesar timeseries {simulate,train,evaluate,figures,predict}``: the time-series stage from the command line.

Each subcommand calls the same function as its Snakemake rule (:mod:`quakesar.timeseries.stage`), with the
``timeseries`` section of ``--config`` and the config seed; ``predict`` applies a checkpoint to a real stack
(MintPy ``timeseries.h5`` or GeoTIFFs) and writes a JSON of tile scores and an ``.npy`` of the map.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from quakesar.atomic import atomic_path, write_json


def _section(config: dict) -> dict:
    return dict(config.get("timeseries") or {})


def _run(args: argparse.Namespace, config: dict) -> int:
    from quakesar.timeseries import stage

    sec, seed = _section(config), int(config["seed"])
    out = Path(args.out_dir)
    if args.ts_command == "simulate":
        stage.simulate_stage(sec, seed, out / "data" / "train.h5", out / "data" / "val.h5")
    elif args.ts_command == "train":
        print(json.dumps(stage.train_stage(sec, seed, out / "data" / "train.h5", out / "data" / "val.h5", out / "model",
                                           args.threads), indent=2))
    elif args.ts_command == "evaluate":
        catalog = (config.get("catalog") or {}).get("path")
        r = stage.evaluate_stage(sec, seed, out / "model" / "checkpoint.pt", out / "evaluate" / "metrics.json", catalog,
                                 args.threads)
        print(json.dumps({"denoising_rmse_mm": r["denoising"]["rmse_mm"], "mw_50": r["magnitude"]["mw_50"]}, indent=2))
    elif args.ts_command == "figures":
        stage.figures_stage(out / "evaluate" / "metrics.json", out / "model" / "checkpoint.pt", seed,
                            out / "figures" / "detection.png", out / "figures" / "example.png", out / "figures" / "summary.md")
    return 0


def _predict(args: argparse.Namespace, config: dict) -> int:
    from quakesar.timeseries.predict import predict_stack
    from quakesar.timeseries.readers import read_geotiff_stack, read_mintpy

    inputs = [Path(p) for p in args.inputs]
    if len(inputs) == 1 and inputs[0].suffix in (".h5", ".hdf5"):
        stack = read_mintpy(inputs[0], args.geometry)
    else:
        stack = read_geotiff_stack(inputs, dem=args.dem, scale_to_m=args.scale_to_m)
    r = predict_stack(args.checkpoint, stack, device=args.device)
    out = Path(args.out)
    with atomic_path(out.with_suffix(".npy")) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, r.pop("deformation"))
    write_json(out.with_suffix(".json"), {**r, "source": stack.source, "map": str(out.with_suffix(".npy"))})
    print(f"max tile score {r['max_score']:.3f}; {out.with_suffix('.json')}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("timeseries", help="InSAR time-series auto-encoder: simulate, train, evaluate, figures, predict")
    sub = p.add_subparsers(dest="ts_command", required=True)
    for name, text in (("simulate", "simulate the training and validation series"), ("train", "train the auto-encoder"),
                       ("evaluate", "detection limit, RMSE vs baselines, detectable magnitude"),
                       ("figures", "figures and the report fragment")):
        q = sub.add_parser(name, help=text)
        q.add_argument("--out-dir", default="results/timeseries", help="stage directory (default results/timeseries)")
        q.add_argument("--threads", type=int, default=1)
        q.set_defaults(handler=_run)
    q = sub.add_parser("predict", help="apply a checkpoint to a MintPy timeseries.h5 or a GeoTIFF stack")
    q.add_argument("inputs", nargs="+", help="timeseries.h5, or GeoTIFFs (one per date, or one multi-band)")
    q.add_argument("--checkpoint", default="results/timeseries/model/checkpoint.pt")
    q.add_argument("--geometry", default=None, help="MintPy geometryGeo.h5 (DEM 'height')")
    q.add_argument("--dem", default=None, help="DEM GeoTIFF on the stack's grid")
    q.add_argument("--scale-to-m", type=float, default=1.0, help="GeoTIFF values times this give metres")
    q.add_argument("--device", default="auto")
    q.add_argument("--out", required=True, help="output path stem (.json and .npy)")
    q.set_defaults(handler=_predict)
