"""Snakemake script for rule `report`: see quakesar.learning.report.build_report."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

from pathlib import Path

from quakesar.learning.report import build_report

ablation = [Path(p) for p in snakemake.input.ablation]
trainingset = [Path(p) for p in snakemake.input.trainingset]
build_report([Path(p) for p in snakemake.input.metrics], ablation[0] if ablation else None, Path(snakemake.output.summary).parent,
             dataset_summary=Path(snakemake.input.dataset), trainingset_summary=trainingset[0] if trainingset else None,
             extra_sections=[Path(p) for p in snakemake.input.extra])
