"""``quakesar simulate``: simulate one event's synthetic Sentinel-1 pair (one scene HDF5 per subswath)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quakesar.synthetic.scene import simulate_event


def _run(args: argparse.Namespace, config: dict) -> int:
    if args.sim_config:
        from quakesar.config import load_config

        config = load_config(args.sim_config)
    record = Path(args.event_record)
    try:
        event = json.loads(record.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{record}: not a JSON event record ({exc})") from None
    if not isinstance(event, dict):
        raise ValueError(f"{record}: expected a JSON object (event record), got {type(event).__name__}")
    cfg = config["simulate"]
    out = Path(args.out_dir)
    outputs = {iw: out / f"{iw}.h5" for iw in cfg["subswaths"]}
    quicklooks = {iw: out / f"{iw}.png" for iw in cfg["subswaths"]} if cfg.get("quicklook", True) else None
    simulate_event(event, cfg, int(config["seed"]), outputs, quicklooks)
    for iw, path in outputs.items():
        print(f"{iw}: {path}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("simulate", help="simulate an event's synthetic Sentinel-1 IW pair (scene HDF5 per subswath)")
    p.add_argument("--event-record", required=True, help="event record JSON (results/catalog/events/{event}.json)")
    p.add_argument("--out-dir", required=True, help="output directory (results/scenes/{event})")
    p.add_argument("--config", dest="sim_config", default=None,
                   help="YAML config (overrides the global --config for this command)")
    p.set_defaults(handler=_run)
