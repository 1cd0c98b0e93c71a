"""Snakemake script for rule `report`: see quakesar.learning.report.build_report."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import logging
from pathlib import Path

from quakesar.learning.report import build_report

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
ablation = [Path(p) for p in snakemake.input.ablation]
build_report([Path(p) for p in snakemake.input.metrics], ablation[0] if ablation else None, Path(snakemake.output.summary).parent)
