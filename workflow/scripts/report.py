"""Snakemake script for rule `report`: see quakesar.learning.report.build_report."""
import logging
from pathlib import Path

from quakesar.learning.report import build_report

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
ablation = [Path(p) for p in snakemake.input.ablation]
trainingset = [Path(p) for p in snakemake.input.trainingset]
build_report([Path(p) for p in snakemake.input.metrics], ablation[0] if ablation else None, Path(snakemake.output.summary).parent,
             dataset_summary=Path(snakemake.input.dataset), trainingset_summary=trainingset[0] if trainingset else None)
