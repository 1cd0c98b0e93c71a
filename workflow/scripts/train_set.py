"""Snakemake script for rule `train_set` (event-set model): quakesar.learning.setmodel.train_set_run."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

from pathlib import Path

from quakesar.learning.runs import parse_run_name
from quakesar.learning.setmodel import train_set_run

seed, _ = parse_run_name(snakemake.wildcards.run)
train_set_run(Path(snakemake.input.gated).parent, Path(snakemake.input.index).parent, snakemake.wildcards.model,
              dict(snakemake.params.cfg), seed, Path(snakemake.output.metrics).parent,
              trainingset_index=snakemake.input.trainingset[0] if snakemake.input.trainingset else None, threads=snakemake.threads)
