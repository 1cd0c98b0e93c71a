"""Entry points of the training-data tier's rules: ``python -m quakesar.trainingset.rule {events,shard,index}``."""

from __future__ import annotations

import logging
from pathlib import Path

from quakesar.rulejob import json_object, parser, start_logging
from quakesar.trainingset.stage import plan_events, run_index, run_shard


def main(argv: list[str] | None = None) -> None:
    p = parser("quakesar training-data tier (rule entry point)")
    p.add_argument("step", choices=("events", "shard", "index"))
    p.add_argument("--cfg", help="JSON: {catalog, simulate, interferogram, patches, trainingset} config sections")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--splits", type=Path)
    p.add_argument("--catalog-events", type=Path)
    p.add_argument("--events", type=Path)
    p.add_argument("--shard", type=int)
    p.add_argument("--shards", type=int)
    p.add_argument("--csvs", type=Path, nargs="*")
    p.add_argument("--summaries", type=Path, nargs="*")
    p.add_argument("--out", type=Path, nargs="+", required=True)
    a = p.parse_args(argv)
    start_logging(a.log)
    cfg = json_object("--cfg", a.cfg) if a.cfg else {}
    log = logging.getLogger("quakesar.trainingset")
    if a.step == "events":
        doc = plan_events(cfg["catalog"], cfg["trainingset"], a.splits, a.catalog_events, a.seed, a.out[0])
        log.info("trainingset: %d synthetic events from %d sources", len(doc["events"]), doc["sources"])
    elif a.step == "shard":
        run_shard(a.events, a.shard, a.shards, cfg["simulate"], cfg["interferogram"], cfg["patches"], cfg["trainingset"],
                  a.seed, *a.out)
    else:
        run_index(a.csvs or [], a.summaries or [], *a.out)


if __name__ == "__main__":
    main()
