"""Snakemake script for rules `train` and `ablation_train`: see quakesar.learning.train.train_run."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import logging
from pathlib import Path

from quakesar.learning.train import train_run

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
train_run(Path(snakemake.input.index).parent, getattr(snakemake.wildcards, "task", "magnitude"), snakemake.wildcards.model,
          {**snakemake.params.cfg, "num_workers": snakemake.config["train"]["num_workers"]}, int(snakemake.wildcards.seed), Path(snakemake.output.metrics).parent,
          ranking_lambda=snakemake.params.ranking_lambda, threads=snakemake.threads)
