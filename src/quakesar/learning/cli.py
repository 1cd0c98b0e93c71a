"""``quakesar train | train-set | ablation | report``: the learning stage's rules from the command line.

Each subcommand calls the same library function as its Snakemake rule (``train``, ``train_set``,
``ablation``, ``report``) with the ``train``/``ablation`` sections of the config (``--config``,
``--set train.epochs=3``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from quakesar.learning.models import MODELS
from quakesar.learning.runs import run_dir_name


def _paths(args: argparse.Namespace, config: dict) -> tuple[Path, Path | None]:
    results = Path(config["results"])
    dataset = Path(args.dataset_dir) if args.dataset_dir else results / "dataset"
    ts = Path(args.trainingset) if args.trainingset else (results / "trainingset" / "index.csv" if config["trainingset"]["enabled"] else None)
    return dataset, ts


def _train(args: argparse.Namespace, config: dict) -> int:
    from quakesar.learning.train import train_run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = dict(config["train"])
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    dataset, ts = _paths(args, config)
    out = Path(args.out_dir) if args.out_dir else Path(config["results"]) / "models" / "gated" / args.model / run_dir_name(args.seed, args.ranking_lambda)
    m = train_run(dataset, args.model, cfg, args.seed, out, ranking_lambda=args.ranking_lambda, trainingset_index=ts,
                  threads=args.threads or int(cfg["threads"]))
    print(json.dumps({k: m[k] for k in ("estimator", "model", "seed", "best_epoch", "epochs_run") if k in m}, indent=1))
    print(f"-> {out}")
    return 0


def _train_set(args: argparse.Namespace, config: dict) -> int:
    from quakesar.learning.setmodel import train_set_run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    dataset, ts = _paths(args, config)
    results = Path(config["results"]) / "models"
    gated = Path(args.gated_dir) if args.gated_dir else results / "gated" / args.model / run_dir_name(args.seed)
    out = Path(args.out_dir) if args.out_dir else results / "set" / args.model / run_dir_name(args.seed)
    m = train_set_run(gated, dataset, args.model, dict(config["train"]), args.seed, out, trainingset_index=ts,
                      threads=args.threads or int(config["train"]["threads"]))
    print(json.dumps({k: m[k] for k in ("estimator", "model", "seed", "best_epoch", "epochs_run") if k in m}, indent=1))
    print(f"-> {out}")
    return 0


def _ablation(args: argparse.Namespace, config: dict) -> int:
    from quakesar.learning.ablation import summarise

    res = summarise([Path(p) for p in args.run_dirs], Path(args.out_json), Path(args.out_png), int(config["train"]["bootstrap"]))
    for c in res["comparisons"]:
        d = c["mae_difference"]
        print(f"lambda {c['lambda']:g}: MAE difference {d['value']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}] over {c['n_seeds']} seeds, {c['n_events']} events")
    return 0


def _report(args: argparse.Namespace, config: dict) -> int:
    from quakesar.learning.report import build_report

    results = Path(config["results"])
    metrics = [Path(p) for p in args.metrics] or sorted((results / "models").glob("*/*/seed*/metrics.json"))
    print(build_report(metrics, Path(args.ablation) if args.ablation else None, Path(args.out_dir),
                       dataset_summary=results / "dataset" / "summary.json", trainingset_summary=results / "trainingset" / "summary.json"))
    return 0


def _predict(args: argparse.Namespace, config: dict) -> int:
    from quakesar.external.cli import event_record
    from quakesar.learning.predict import predict_event

    event = event_record(args.event, config)
    out = Path(args.out)
    fig = Path(args.figure) if args.figure else out.with_suffix(".png")
    doc = predict_event(event, [Path(p) for p in args.interferograms], [Path(m) for m in args.models], config, out, fig,
                        Path(args.inversion) if args.inversion else None, args.device)
    for a in doc["answers"]:
        verdict = "not detectable (fallback answer)" if a["fallback"] else "detectable"
        print(f"{event['id']} [{a['estimator']}] p_detectable {a['p_detectable']:.2f} {verdict}: epicentre {a['lat']:.4f}, "
              f"{a['lon']:.4f} (95 % within {a['epicentre_r95_km']:.1f} km; {a['catalog_distance_km']:.1f} km from the catalog), "
              f"Mw {a['mw']:.2f} [{a['mw_lo']:.2f}, {a['mw_hi']:.2f}]")
    if "inversion" in doc:
        inv = doc["inversion"]
        print(f"{event['id']} [physics inversion] {inv.get('lat')}, {inv.get('lon')}, Mw {inv.get('mw')}")
    print(f"-> {out}, {fig}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", required=True, choices=MODELS)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--dataset-dir", default=None, help="default: <results>/dataset")
        p.add_argument("--trainingset", default=None, help="training-tier index (default: <results>/trainingset/index.csv when enabled)")
        p.add_argument("--out-dir", default=None)
        p.add_argument("--threads", type=int, default=None, help="torch threads (default train.threads)")

    p = subparsers.add_parser("train", help="train and evaluate the gated patch model (rule train)")
    common(p)
    p.add_argument("--ranking-lambda", type=float, default=None, help="override train.ranking_lambda (an ablation run)")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    p.set_defaults(handler=_train)
    s = subparsers.add_parser("train-set", help="train and evaluate the event-set model on a gated run (rule train_set)")
    common(s)
    s.add_argument("--gated-dir", default=None, help="the gated run (default: <results>/models/gated/<model>/seed<N>)")
    s.set_defaults(handler=_train_set)
    a = subparsers.add_parser("ablation", help="summarise lambda=0 vs lambda>0 gated runs (rule ablation)")
    a.add_argument("run_dirs", nargs="+")
    a.add_argument("--out-json", default="results/ablation/ranking.json")
    a.add_argument("--out-png", default="results/ablation/ranking.png")
    a.set_defaults(handler=_ablation)
    r = subparsers.add_parser("report", help="metrics tables, ablation and figures -> summary.md (rule report)")
    r.add_argument("--metrics", nargs="*", default=[], help="metrics.json files (default: all <results>/models/*/*/seed*/)")
    r.add_argument("--ablation", default=None, help="ranking.json of the ablation")
    r.add_argument("--out-dir", default="results/report")
    r.set_defaults(handler=_report)
    q = subparsers.add_parser("predict", help="event-level Mw, epicentre and detectability verdict of trained models on "
                                              "an event's canonical interferograms (also imported LiCSAR/HyP3 products)")
    q.add_argument("--models", nargs="+", required=True, help="run directories (results/models/gated|set/<model>/<run>) or checkpoints")
    q.add_argument("--interferograms", nargs="+", required=True, help="canonical interferograms (.h5) of the event")
    q.add_argument("--event", required=True, help="event record JSON (results/catalog/events/<id>.json) or a catalog event id")
    q.add_argument("--out", required=True, help="output JSON")
    q.add_argument("--figure", help="output map (default: the JSON's name with .png)")
    q.add_argument("--inversion", help="a physics inversion JSON to show beside (default results/inversion/<event>.json if present)")
    q.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    q.set_defaults(handler=_predict)
