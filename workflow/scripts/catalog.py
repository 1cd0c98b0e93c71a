"""Snakemake script for rule `catalog`: see quakesar.catalog.stage.run_catalog."""
import logging
from pathlib import Path

from quakesar.catalog.stage import run_catalog

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
stats = run_catalog(snakemake.params.cfg, Path(snakemake.output.events), Path(snakemake.output.summary),
                    records_dir=Path(snakemake.output.records))
logging.info("catalog: %s", stats)
