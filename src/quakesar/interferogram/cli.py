"""``quakesar interferogram``: one event/subswath interferogram, the same call as the Snakemake rule.

    quakesar interferogram --scene results/scenes/EV/IW2.h5 --out results/interferograms/EV/IW2.h5
    quakesar interferogram --backend snap --pairs results/pairs/EV.json --event-record results/catalog/events/EV.json \
        --subswath IW2 --slc data/slc/PRE.zip --slc data/slc/POST.zip --out results/interferograms/EV/IW2.h5
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from quakesar.interferogram.process import BACKENDS, process_interferogram


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``interferogram`` subcommand."""
    p = subparsers.add_parser("interferogram", help="form one canonical interferogram (native or SNAP backend)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default: interferogram.backend of the config")
    p.add_argument("--scene", type=Path, help="native: synthetic scene HDF5")
    p.add_argument("--pairs", type=Path, help="snap: results/pairs/{event}.json")
    p.add_argument("--event-record", type=Path, help="snap: results/catalog/events/{event}.json")
    p.add_argument("--subswath", help="snap: IW1, IW2 or IW3")
    p.add_argument("--slc", type=Path, action="append", default=[], help="snap: SLC zip (repeat: reference, secondary)")
    p.add_argument("--workdir", type=Path, help="snap: working directory (default: beside --out)")
    p.add_argument("--out", type=Path, required=True, help="canonical interferogram HDF5 to write")
    p.add_argument("--quicklook", type=Path, default=None, help="quicklook PNG (default: --out with .png)")
    p.add_argument("--no-quicklook", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, config: dict[str, Any]) -> int:
    """Handler: dispatch to :func:`process_interferogram`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = config["interferogram"]
    backend = args.backend or cfg["backend"]
    quicklook = None if args.no_quicklook else (args.quicklook or args.out.with_suffix(".png"))
    if backend == "native":
        if args.scene is None:
            raise ValueError("interferogram --backend native needs --scene SCENE.h5")
        process_interferogram("native", args.out, cfg, quicklook, scene_h5=args.scene)
        return 0
    if args.pairs is None or args.event_record is None or args.subswath is None or not args.slc:
        raise ValueError("interferogram --backend snap needs --pairs, --event-record, --subswath and --slc")
    event = json.loads(args.event_record.read_text(encoding="utf-8"))
    workdir = args.workdir or args.out.parent / f".{args.out.stem}.snap"
    process_interferogram("snap", args.out, cfg, quicklook, pairs_json=args.pairs, event=event,
                          subswath=args.subswath, slc_paths=list(args.slc), workdir=workdir,
                          log_path=args.out.with_suffix(".gpt.log"))
    return 0
