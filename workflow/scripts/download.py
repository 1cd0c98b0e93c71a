"""Snakemake script for rules `download`, `download_burst` and `orbits`: see quakesar.asf.stage.run_download.
The tqdm progress bar (bytes, rate) goes to the job's log file."""
import logging
import sys

from quakesar.asf.stage import run_download

sys.stderr = open(snakemake.log[0], "a", buffering=1)  # progress bar and messages into the log
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
run_download("orbits" if snakemake.rule == "orbits" else "slc", snakemake.params.record, snakemake.output[0], snakemake.config["download"])
