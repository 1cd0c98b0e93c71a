"""Snakemake script for checkpoint `search`: see quakesar.asf.stage.run_search."""
import json
import logging

from quakesar.asf.stage import run_search

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
run_search(json.loads(snakemake.params.record), snakemake.output[0], snakemake.params.cfg)
