"""Snakemake script for rule `ablation`: see quakesar.learning.ablation.summarise."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

from pathlib import Path

from quakesar.learning.ablation import summarise

summarise([Path(p).parent for p in snakemake.input.events], Path(snakemake.output.json), Path(snakemake.output.png),
          int(snakemake.params.bootstrap))
