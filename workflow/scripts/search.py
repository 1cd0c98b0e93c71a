"""Snakemake script for checkpoint `search`: see quakesar.asf.stage.run_search."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import json

from quakesar.asf.stage import run_search

run_search(json.loads(snakemake.params.record), snakemake.output[0], snakemake.params.cfg)
