"""Entry point of the Snakemake rules of workflow/rules/timeseries.smk (see quakesar.rulejob).

    python -m quakesar.timeseries.rule simulate --cfg JSON --seed S --train T.h5 --val V.h5 --log LOG
    python -m quakesar.timeseries.rule train    --cfg JSON --seed S --train T.h5 --val V.h5 --checkpoint DIR/checkpoint.pt --threads N --log LOG
    python -m quakesar.timeseries.rule evaluate --cfg JSON --seed S --checkpoint C.pt --catalog CSV --out M.json --threads N --log LOG
    python -m quakesar.timeseries.rule figures  --seed S --metrics M.json --checkpoint C.pt --detection D.png --example E.png --summary S.md --log LOG
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from quakesar.rulejob import job_log, json_object, log_option, parser


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("Time-series stage (issue 15): simulate, train, evaluate or figures.")
    p.add_argument("step", choices=("simulate", "train", "evaluate", "figures"))
    p.add_argument("--cfg", default="{}", help="the timeseries config section (JSON text)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    for name in ("train", "val", "run-dir", "checkpoint", "catalog", "out", "metrics", "detection", "example", "summary"):
        p.add_argument(f"--{name}", type=Path, default=None)
    with job_log(log_option(argv)) as job:
        a = p.parse_args(argv)
        from quakesar.timeseries import stage

        cfg = json_object("--cfg", a.cfg)
        if a.step == "simulate":
            job.claim_outputs([a.train, a.val])
            stage.simulate_stage(cfg, a.seed, a.train, a.val)
        elif a.step == "train":
            run_dir = a.run_dir or (a.checkpoint.parent if a.checkpoint else None)
            if run_dir is None:
                raise SystemExit("train: give --run-dir or --checkpoint (its directory is the run directory)")
            stage.train_stage(cfg, a.seed, a.train, a.val, run_dir, a.threads)
        elif a.step == "evaluate":
            job.claim_outputs([a.out])
            stage.evaluate_stage(cfg, a.seed, a.checkpoint, a.out, a.catalog, a.threads)
        else:
            job.claim_outputs([a.detection, a.example, a.summary])
            stage.figures_stage(a.metrics, a.checkpoint, a.seed, a.detection, a.example, a.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
