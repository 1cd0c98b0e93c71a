"""Snakemake script for rule `ablation`: see quakesar.learning.ablation.summarise."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import logging
from pathlib import Path

from quakesar.learning.ablation import summarise

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
summarise([Path(p).parent for p in snakemake.input.metrics], Path(snakemake.output.json), Path(snakemake.output.png),
          int(snakemake.params.bootstrap))
