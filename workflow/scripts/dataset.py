"""Snakemake script for rule `dataset`: see quakesar.dataset.index.build_dataset."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

from pathlib import Path

from quakesar.dataset.index import build_dataset

build_dataset([Path(p) for p in snakemake.input.csvs], snakemake.params.cfg, int(snakemake.params.seed),
              Path(snakemake.output.index).parent)
