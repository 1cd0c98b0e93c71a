"""``quakesar catalog``: select events from a catalog and write events.csv plus per-event records."""

from __future__ import annotations

import argparse
from pathlib import Path

from quakesar.catalog.stage import run_catalog


def _run(args: argparse.Namespace, config: dict) -> int:
    out = Path(args.out_dir)
    stats = run_catalog(config["catalog"], out / "events.csv", out / "summary.json", out / "events")
    print(f"{stats['events']} events selected, {stats['records_written']} records (re)written in {out}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("catalog", help="filter and deduplicate a catalog; write events.csv and event records")
    p.add_argument("--out-dir", default="results/catalog", help="output directory (default results/catalog)")
    p.set_defaults(handler=_run)
