"""Snakemake script for rule `ablation`: see quakesar.learning.ablation.summarise."""
import logging
from pathlib import Path

from quakesar.learning.ablation import summarise

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
summarise([Path(p).parent for p in snakemake.input.events], Path(snakemake.output.json), Path(snakemake.output.png),
          int(snakemake.params.bootstrap))
