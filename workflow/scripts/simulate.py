"""Snakemake script for rule `simulate`: see quakesar.synthetic.scene.simulate_event."""
import json
import logging
from pathlib import Path

from quakesar.synthetic.scene import simulate_event

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
subswaths = snakemake.params.subswaths
outputs = dict(zip(subswaths, (Path(p) for p in snakemake.output.scenes)))
quicklooks = dict(zip(subswaths, (Path(p) for p in snakemake.output.quicklooks))) if "quicklooks" in snakemake.output.keys() else None
event = json.loads(Path(snakemake.input.record).read_text(encoding="utf-8"))
simulate_event(event, snakemake.params.cfg, snakemake.params.seed, outputs, quicklooks, threads=snakemake.threads)
