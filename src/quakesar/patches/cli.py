"""``quakesar patches``: tile an event's canonical interferograms (same function as rule ``patches``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quakesar.patches.tiling import tile_event


def _run(args: argparse.Namespace, config: dict) -> int:
    record = Path(args.event)
    try:
        event = json.loads(record.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{record}: cannot read the event record ({exc})") from exc
    out = Path(args.out_dir)
    eid = event.get("id", record.stem)
    tile_event(event, [Path(p) for p in args.interferograms], config["patches"], out / f"{eid}.h5", out / f"{eid}.csv",
               label_threshold_m=args.label_threshold_m)
    summary = json.loads((out / f"{eid}.summary.json").read_text())
    print(f"{eid}: {summary['patches']} patches of {summary['windows']} windows, dropped {summary['dropped']} -> {out}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("patches", help="tile an event's interferograms into patches (HDF5 + CSV)")
    p.add_argument("--event", required=True, help="event record JSON (results/catalog/events/{event}.json)")
    p.add_argument("--interferograms", nargs="*", default=[], help="canonical interferogram files of the event")
    p.add_argument("--out-dir", default="results/patches", help="output directory (default results/patches)")
    p.add_argument("--label-threshold-m", type=float, default=None,
                   help="detection threshold on peak |LOS| (default: the value in the truth attributes)")
    p.set_defaults(handler=_run)
