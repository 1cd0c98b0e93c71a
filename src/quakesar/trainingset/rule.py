"""Entry point of the training-data tier's rules (see quakesar.rulejob for why rules run modules).

    python -m quakesar.trainingset.rule events --cfg JSON --seed N --splits SPLITS --catalog-events CSV --out EVENTS.json --log LOG
    python -m quakesar.trainingset.rule shard --cfg JSON --seed N --events EVENTS.json --shard K --shards N --out H5 CSV SUMMARY --log LOG
    python -m quakesar.trainingset.rule index --csvs CSV... --summaries JSON... --out INDEX.csv SUMMARY.json --log LOG
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from quakesar.rulejob import job_log, json_object, log_option, parser
from quakesar.trainingset.stage import plan_events, run_index, run_shard

log = logging.getLogger("quakesar.trainingset")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("quakesar training-data tier: plan the events, simulate a shard, merge the index")
    p.add_argument("step", choices=("events", "shard", "index"))
    p.add_argument("--cfg", help="JSON: the config sections the step needs (catalog, simulate, interferogram, patches, trainingset)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--splits", type=Path)
    p.add_argument("--catalog-events", type=Path)
    p.add_argument("--events", type=Path)
    p.add_argument("--shard", type=int)
    p.add_argument("--shards", type=int)
    p.add_argument("--csvs", type=Path, nargs="*")
    p.add_argument("--summaries", type=Path, nargs="*")
    p.add_argument("--out", type=Path, nargs="+", required=True)
    with job_log(log_option(argv)) as job:
        a = p.parse_args(argv)
        job.claim_outputs(list(a.out))
        cfg = json_object("--cfg", a.cfg) if a.cfg else {}
        if a.step == "events":
            doc = plan_events(cfg["catalog"], cfg["trainingset"], a.splits, a.catalog_events, a.seed, a.out[0])
            log.info("trainingset: %d synthetic events from %d source events", len(doc["events"]), doc["sources"])
        elif a.step == "shard":
            run_shard(a.events, a.shard, a.shards, cfg["simulate"], cfg["interferogram"], cfg["patches"], cfg["trainingset"],
                      a.seed, *a.out)
        else:
            run_index(a.csvs or [], a.summaries or [], *a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
