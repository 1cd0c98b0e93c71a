"""Snakemake script for rules `download`, `download_burst` and `orbits`: see quakesar.asf.stage.run_download.
The tqdm progress bar (bytes, rate) goes to the job's log file."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake, echo_stderr=False)  # progress bar, messages, traceback: the log only

from quakesar.asf.stage import run_download

run_download("orbits" if snakemake.rule == "orbits" else "slc", snakemake.params.record, snakemake.output[0], snakemake.config["download"])
