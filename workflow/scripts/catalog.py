"""Snakemake script for rule `catalog`: see quakesar.catalog.stage.run_catalog."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import logging
from pathlib import Path

from quakesar.catalog.stage import run_catalog

stats = run_catalog(snakemake.params.cfg, Path(snakemake.output.events), Path(snakemake.output.summary),
                    records_dir=Path(snakemake.output.records))
logging.info("catalog: %s", stats)
