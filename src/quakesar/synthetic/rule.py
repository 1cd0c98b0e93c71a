"""Entry point of the Snakemake rule ``simulate`` (see quakesar.rulejob for why rules run modules).

    python -m quakesar.synthetic.rule --record JSON --cfg JSON --seed 42 --threads 1 --log LOG \
        --subswaths IW1 IW2 IW3 --scenes S1.h5 S2.h5 S3.h5 [--quicklooks Q1.png Q2.png Q3.png]
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from quakesar.rulejob import job_log, json_object, log_option, paired, parser
from quakesar.synthetic.scene import simulate_event


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("Simulate one event's synthetic Sentinel-1 pair, one scene HDF5 per subswath.")
    p.add_argument("--record", required=True, help="the event record (JSON text)")
    p.add_argument("--cfg", required=True, help="the simulate config section (JSON text)")
    p.add_argument("--seed", type=int, required=True, help="the config seed")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--subswaths", nargs="+", required=True)
    p.add_argument("--scenes", nargs="+", type=Path, required=True, help="scene HDF5 per subswath, same order")
    p.add_argument("--quicklooks", nargs="+", type=Path, default=None, help="quicklook PNG per subswath")
    with job_log(log_option(argv)) as job:
        args = p.parse_args(argv)
        job.claim_outputs([*args.scenes, *(args.quicklooks or [])])
        outputs = paired(args.subswaths, "--scenes", args.scenes)
        assert outputs is not None
        simulate_event(json_object("--record", args.record), json_object("--cfg", args.cfg), args.seed, outputs,
                       paired(args.subswaths, "--quicklooks", args.quicklooks), threads=args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
