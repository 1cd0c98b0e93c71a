"""Snakemake script for checkpoint `search`: see quakesar.asf.stage.run_search."""
import logging

from quakesar.asf.stage import run_search

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
run_search(snakemake.input.event, snakemake.output[0], snakemake.params.cfg)
