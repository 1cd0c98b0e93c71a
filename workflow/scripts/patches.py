"""Snakemake script for rule `patches`: see quakesar.patches.tiling.tile_event."""
import json
import logging
from pathlib import Path

from quakesar.patches.tiling import tile_event

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
event = json.loads(Path(snakemake.input.record).read_text())
tile_event(event, [Path(p) for p in snakemake.input.interferograms], snakemake.params.cfg,
           Path(snakemake.output.h5), Path(snakemake.output.csv), out_summary=Path(snakemake.output.summary))
