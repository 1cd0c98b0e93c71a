"""Snakemake script for rule `train` (gated model; also the ablation's lambda runs): quakesar.learning.train.train_run."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

from pathlib import Path

from quakesar.learning.runs import parse_run_name
from quakesar.learning.train import train_run

seed, lam = parse_run_name(snakemake.wildcards.run)
cfg = dict(snakemake.params.cfg)
if snakemake.params.epochs_override:
    cfg["epochs"] = int(snakemake.params.epochs_override)
train_run(Path(snakemake.input.index).parent, snakemake.wildcards.model, cfg, seed, Path(snakemake.output.metrics).parent,
          ranking_lambda=lam, trainingset_index=snakemake.input.trainingset[0] if snakemake.input.trainingset else None,
          threads=snakemake.threads)
