"""``quakesar train | ablation | report``: the learning stage's rules from the command line.

Each subcommand calls the same library function as its Snakemake rule (``train``/``ablation_train``,
``ablation``, ``report``) with the ``train``/``ablation`` sections of the config (``--config``,
``--set train.epochs=3``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from quakesar.learning.models import MODELS
from quakesar.learning.tasks import TASKS


def run_dir_name(seed: int, ranking_lambda: float | None = None) -> str:
    """``seed{N}`` or, for the ablation, ``lambda{L}_seed{N}`` (docs/architecture.md "Models")."""
    return f"seed{seed}" if ranking_lambda is None else f"lambda{ranking_lambda:g}_seed{seed}"


def _train(args: argparse.Namespace, config: dict) -> int:
    from quakesar.learning.train import train_run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = dict(config["train"])
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    out = Path(args.out_dir) if args.out_dir else Path(config["results"]) / "models" / args.task / args.model / run_dir_name(args.seed, args.ranking_lambda)
    m = train_run(Path(args.dataset_dir or Path(config["results"]) / "dataset"), args.task, args.model, cfg, args.seed, out,
                  ranking_lambda=args.ranking_lambda, threads=args.threads or int(cfg["threads"]))
    print(json.dumps({k: m[k] for k in ("task", "model", "seed", "best_epoch", "epochs_run", "event") if k in m}, indent=1))
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

    metrics = [Path(p) for p in args.metrics] or sorted((Path(config["results"]) / "models").glob("*/*/seed*/metrics.json"))
    print(build_report(metrics, Path(args.ablation) if args.ablation else None, Path(args.out_dir)))
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train and evaluate one model (rule train / ablation_train)")
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ranking-lambda", type=float, default=None, help="override train.ranking_lambda (magnitude only)")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    p.add_argument("--dataset-dir", default=None, help="default: <results>/dataset")
    p.add_argument("--out-dir", default=None, help="default: <results>/models/<task>/<model>/seed<N>")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default train.threads)")
    p.set_defaults(handler=_train)
    a = subparsers.add_parser("ablation", help="summarise lambda=0 vs lambda>0 magnitude runs (rule ablation)")
    a.add_argument("run_dirs", nargs="+")
    a.add_argument("--out-json", default="results/ablation/ranking.json")
    a.add_argument("--out-png", default="results/ablation/ranking.png")
    a.set_defaults(handler=_ablation)
    r = subparsers.add_parser("report", help="metrics tables, ablation and figures -> summary.md (rule report)")
    r.add_argument("--metrics", nargs="*", default=[], help="metrics.json files (default: all <results>/models/*/*/seed*/)")
    r.add_argument("--ablation", default=None, help="ranking.json of the ablation")
    r.add_argument("--out-dir", default="results/report")
    r.set_defaults(handler=_report)
