"""``quakesar search|download|orbits|burst-coverage|slc-cleanup``: the ASF stages on the command line.

Each subcommand calls the library function its Snakemake rule calls::

    quakesar --config config/sentinel1.yaml search --event results/catalog/events/nn00725272.json \
        --out results/pairs/nn00725272.json
    quakesar --config config/sentinel1.yaml download --pairs results/pairs/nn00725272.json \
        --granule S1A_IW_SLC__1SDV_... [--out data/slc/S1A_IW_SLC__1SDV_....zip]
    quakesar burst-coverage data/slc/S1A_IW_SLC__1SDV_....zip --lat 38.169 --lon -117.85 --radius-km 10
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quakesar.asf import cleanup, download, orbits, safe, search


def _search(args: argparse.Namespace, config: dict) -> int:
    try:
        doc = search.search_event(search.load_event(args.event), config["search"], Path(args.out))
    except search.SearchError as exc:
        print(f"quakesar search: error: {exc}", file=sys.stderr)
        return 1
    if doc["status"] == "ok":
        for p in doc["pairs"]:
            print(f"{doc['event_id']}: {p['scene_id']} B_perp {p['perpendicular_baseline_m']} m, subswaths {','.join(p['subswaths'])}")
            for g in p["granules"]:
                print(f"  {g}")
    else:
        print(f"{doc['event_id']}: no pair: {doc['reason']}")
    return 0


def _download(args: argparse.Namespace, config: dict) -> int:
    cfg = config["download"]
    out = Path(args.out) if args.out else None
    if out is None:
        out = Path(cfg["dir"]) / download.local_name(download.granule_record(args.pairs, args.granule))
    try:
        path = download.download_granule(Path(args.pairs), args.granule, out, cfg)
    except download.DownloadError as exc:
        print(f"quakesar download: error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _orbits(args: argparse.Namespace, config: dict) -> int:
    save_dir = Path(args.save_dir or Path(config["download"]["dir"]) / "orbits")
    files = orbits.fetch_orbits(args.pairs, args.granule, save_dir, save_dir / f"{args.granule}.json")
    print("\n".join(str(f) for f in files))
    return 0


def _coverage(args: argparse.Namespace, config: dict) -> int:
    anns = safe.read_safe(args.safe, args.polarisation or config["search"]["polarisation"])
    radius = config["search"]["subswath_radius_km"] if args.radius_km is None else args.radius_km
    print(json.dumps(safe.coverage(anns, args.lat, args.lon, radius), indent=2))
    return 0


def _cleanup(args: argparse.Namespace, config: dict) -> int:
    results = Path(config["results"])
    removed = cleanup.cleanup_slcs(results / "pairs", results / "interferograms", Path(config["download"]["dir"]), dry_run=args.dry_run)
    print(("would remove" if args.dry_run else "removed") + f" {len(removed)} file(s)")
    for f in removed:
        print(f"  {f}")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="ASF search: choose the pre/post Sentinel-1 pair(s) of one event")
    p.add_argument("--event", required=True, help="event record JSON (results/catalog/events/{event}.json)")
    p.add_argument("--out", required=True, help="pairs JSON to write (results/pairs/{event}.json)")
    p.set_defaults(handler=_search)

    p = subparsers.add_parser("download", help="download one granule of a pairs file (resumable, verified)")
    p.add_argument("--pairs", required=True, help="pairs JSON of the event")
    p.add_argument("--granule", required=True, help="scene or burst name from the pairs file")
    p.add_argument("--out", help="target file (default <download.dir>/<granule>.zip|.tiff)")
    p.set_defaults(handler=_download)

    p = subparsers.add_parser("orbits", help="fetch the precise orbit file of one granule (sentineleof)")
    p.add_argument("--pairs", required=True)
    p.add_argument("--granule", required=True)
    p.add_argument("--save-dir", help="default <download.dir>/orbits")
    p.set_defaults(handler=_orbits)

    p = subparsers.add_parser("burst-coverage", help="subswaths/bursts of a SAFE (zip or folder) near an epicentre")
    p.add_argument("safe", type=Path)
    p.add_argument("--lat", type=float, required=True)
    p.add_argument("--lon", type=float, required=True)
    p.add_argument("--radius-km", type=float, default=None, help="default search.subswath_radius_km")
    p.add_argument("--polarisation", default=None)
    p.set_defaults(handler=_coverage)

    p = subparsers.add_parser("slc-cleanup", help="delete cached SLCs whose interferograms all exist")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(handler=_cleanup)
