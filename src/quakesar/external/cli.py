"""``quakesar external-products`` and ``quakesar import-external``: the ``source: external`` stage
without Snakemake (the same library functions as rule ``import_external``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quakesar.external.plan import plan_external
from quakesar.external.stage import external_patches, import_event


def event_record(value: str, config: dict) -> dict:
    """An event record from its JSON file, or by id from the config's catalog selection."""
    record = Path(value)
    if record.is_file():
        try:
            return json.loads(record.read_text())
        except ValueError as exc:
            raise ValueError(f"{record}: cannot read the event record ({exc})") from exc
    from quakesar.catalog.stage import load_selection

    cat = dict(config["catalog"])
    if not Path(cat["path"]).is_file():  # the bundled catalog, relative to this checkout
        bundled = Path(__file__).resolve().parents[3] / cat["path"]
        if bundled.is_file():
            cat["path"] = str(bundled)
    for ev in load_selection(cat).events:
        if ev.id == value:
            return ev.stable_record()
    raise ValueError(f"--event {value!r}: neither an event record file nor an event id of the catalog selection")


def _list(args: argparse.Namespace, config: dict) -> int:
    events = args.events or sorted(set((config.get("external") or {}).get("events") or {}))
    if not events:
        raise ValueError("give event ids (--events ...) or list products in external.events")
    plan = plan_external(config.get("external"), events)
    for ev in events:
        specs = plan.get(ev, [])
        print(f"{ev}: {len(specs)} product(s)")
        for s in specs:
            print(f"  {s.product_id}  [{s.layout}]  " + ", ".join(f"{k}={v}" for k, v in sorted(s.files.items())))
    return 0


def _import(args: argparse.Namespace, config: dict) -> int:
    event = event_record(args.event, config)
    results = Path(args.results or config.get("results", "results"))
    if args.patches:
        out = results / "patches"
        files = external_patches(event, config, out / f"{event['id']}.h5", out / f"{event['id']}.csv", results)
        print(f"{event['id']}: {len(files)} product(s) imported and tiled -> {out / (event['id'] + '.csv')}")
        return 0
    for s in import_event(event, config, results, quicklook=not args.no_quicklook):
        print(f"{event['id']}: {s['product_id']} [{s['layout']}] {s['shape'][0]}x{s['shape'][1]} -> "
              f"{s['h5']} (pseudo-radar {s['pseudo_radar_shape'][0]}x{s['pseudo_radar_shape'][1]}), {s['geo_h5']}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("external-products", help="list the external products found for events (no import)")
    p.add_argument("--events", nargs="*", default=[], help="event ids (default: those in external.events)")
    p.set_defaults(handler=_list)
    p = subparsers.add_parser("import-external", help="import an event's external interferograms (LiCSAR, HyP3, ...)")
    p.add_argument("--event", required=True, help="event id, or its record JSON (results/catalog/events/{event}.json)")
    p.add_argument("--results", default=None, help="results directory (default: the config's results)")
    p.add_argument("--patches", action="store_true", help="also tile them into results/patches/{event}.h5/.csv")
    p.add_argument("--no-quicklook", action="store_true")
    p.set_defaults(handler=_import)
