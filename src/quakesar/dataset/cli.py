"""``quakesar dataset``: merge patch CSVs into the dataset index with leak-free splits (same as rule ``dataset``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quakesar.dataset.index import build_dataset


def _run(args: argparse.Namespace, config: dict) -> int:
    csvs = [Path(p) for p in args.patch_csvs] or sorted(Path(args.patches_dir).glob("*.csv"))
    out = Path(args.out_dir)
    build_dataset(csvs, config["dataset"], int(config["seed"]), out)
    summary = json.loads((out / "summary.json").read_text())
    print(f"{summary['patches']} patches, {summary['events']} events in {summary['groups']} groups; "
          + ", ".join(f"{s}: {v['patches']}" for s, v in summary["per_split"].items()) + f" -> {out}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dataset", help="merge patch CSVs; split by grouped events; train-only norm stats")
    p.add_argument("patch_csvs", nargs="*", help="patch CSVs (default: all *.csv in --patches-dir)")
    p.add_argument("--patches-dir", default="results/patches")
    p.add_argument("--out-dir", default="results/dataset")
    p.set_defaults(handler=_run)
