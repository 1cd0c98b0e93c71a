"""Snakemake script for rule `predict_external`: quakesar.learning.predict.predict_event."""
from quakesar.rulejob import script_job  # first: the log gets everything, import errors included

script_job(snakemake)  # logging, stderr and the traceback into the rule's log (quakesar.rulejob)

import json
from pathlib import Path

from quakesar.learning.predict import predict_event

config = {"patches": json.loads(snakemake.params.patches), "results": snakemake.config["results"]}
predict_event(json.loads(snakemake.params.record), [Path(p) for p in snakemake.input.ifgs],
              [Path(p).parent for p in snakemake.input.models], config, Path(snakemake.output.json), Path(snakemake.output.png))
