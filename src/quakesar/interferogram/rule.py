"""Entry point of the Snakemake rule ``interferogram`` (see quakesar.rulejob for why rules run modules).

Native backend (synthetic source), all subswaths of one event in one job, one after the other::

    python -m quakesar.interferogram.rule native --cfg JSON --log LOG --subswaths IW1 IW2 IW3 \
        --scenes S1.h5 S2.h5 S3.h5 --outputs I1.h5 I2.h5 I3.h5 [--quicklooks Q1.png Q2.png Q3.png]

SNAP backend (ASF source), one subswath per job (SNAP takes hours per subswath)::

    python -m quakesar.interferogram.rule snap --cfg JSON --log LOG --record JSON --subswaths IW2 \
        --pairs PAIRS.json --slcs PRE.zip POST.zip --workdir DIR --gpt-log GPT.log --outputs I2.h5 \
        [--orbits PRE.json POST.json]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Sequence

from quakesar.interferogram.process import process_interferogram
from quakesar.rulejob import job_log, json_object, log_option, paired, parser


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("Canonical interferograms of one event (native: all its subswaths; snap: one subswath).")
    p.add_argument("backend", choices=("native", "snap"))
    p.add_argument("--cfg", required=True, help="the interferogram config section (JSON text)")
    p.add_argument("--subswaths", nargs="+", required=True)
    p.add_argument("--outputs", nargs="+", type=Path, required=True, help="interferogram HDF5 per subswath")
    p.add_argument("--quicklooks", nargs="+", type=Path, default=None, help="quicklook PNG per subswath")
    p.add_argument("--scenes", nargs="+", type=Path, help="native: scene HDF5 per subswath")
    p.add_argument("--record", help="snap: the event record (JSON text)")
    p.add_argument("--pairs", type=Path, help="snap: the event's pairs JSON")
    p.add_argument("--slcs", nargs="+", type=Path, help="snap: SLC zips (reference first) or burst files")
    p.add_argument("--workdir", type=Path, help="snap: working directory of the graphs")
    p.add_argument("--gpt-log", type=Path, help="snap: gpt's log")
    p.add_argument("--orbits", nargs="*", type=Path, default=[], help="snap: orbit manifests of the pair (download.orbits)")
    with job_log(log_option(argv)) as job:
        args = p.parse_args(argv)
        job.claim_outputs([*args.outputs, *(args.quicklooks or [])])
        _run(args)
    return 0


def _run(args: argparse.Namespace) -> None:
    """The job's work, once the command line is parsed."""
    cfg = json_object("--cfg", args.cfg)
    outputs = paired(args.subswaths, "--outputs", args.outputs)
    quicklooks = paired(args.subswaths, "--quicklooks", args.quicklooks) or {}
    assert outputs is not None
    if args.backend == "native":
        scenes = paired(args.subswaths, "--scenes", args.scenes)
        if scenes is None:
            raise SystemExit("native: --scenes is required")
        for iw, out in outputs.items():
            logging.info("%s: %s -> %s", iw, scenes[iw], out)
            process_interferogram("native", out, cfg, quicklooks.get(iw), scene_h5=scenes[iw])
        return
    if len(outputs) != 1:
        raise SystemExit(f"snap: one subswath per job, got {' '.join(args.subswaths)}")
    (iw, out), = outputs.items()
    event = json_object("--record", args.record) if args.record is not None else None
    process_interferogram("snap", out, cfg, quicklooks.get(iw), pairs_json=args.pairs, event=event, subswath=iw,
                          slc_paths=args.slcs, workdir=args.workdir, log_path=args.gpt_log,
                          orbit_manifests=list(args.orbits))


if __name__ == "__main__":
    raise SystemExit(main())
