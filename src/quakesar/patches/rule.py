"""Entry point of the Snakemake rule ``patches`` (see quakesar.rulejob for why rules run modules).

    python -m quakesar.patches.rule --record JSON --cfg JSON --log LOG --interferograms IW1.h5 IW2.h5 \
        --h5 EV.h5 --csv EV.csv --summary EV.summary.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from quakesar.patches.tiling import tile_event
from quakesar.rulejob import job_log, json_object, log_option, parser


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("Tile all interferograms of one event into ML patches (HDF5 + CSV + summary).")
    p.add_argument("--record", required=True, help="the event record (JSON text)")
    p.add_argument("--cfg", required=True, help="the patches config section (JSON text)")
    p.add_argument("--interferograms", nargs="*", type=Path, default=[], help="the event's interferograms")
    p.add_argument("--h5", type=Path, required=True)
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--summary", type=Path, required=True)
    with job_log(log_option(argv)) as job:
        args = p.parse_args(argv)
        job.claim_outputs([args.h5, args.csv, args.summary])
        tile_event(json_object("--record", args.record), list(args.interferograms), json_object("--cfg", args.cfg),
                   args.h5, args.csv, out_summary=args.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
