"""Snakemake script for rule `interferogram`: see quakesar.interferogram.process.process_interferogram."""
import json
import logging
from pathlib import Path

from quakesar.interferogram.process import process_interferogram

logging.basicConfig(filename=snakemake.log.main, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
out = snakemake.output
quicklook = Path(out.png) if "png" in out.keys() else None
if snakemake.params.backend == "native":
    process_interferogram("native", Path(out.h5), snakemake.params.cfg, quicklook, scene_h5=Path(snakemake.input.scene))
else:
    process_interferogram("snap", Path(out.h5), snakemake.params.cfg, quicklook,
                          pairs_json=Path(snakemake.input.pairs),
                          event=json.loads(Path(snakemake.input.record).read_text(encoding="utf-8")),
                          subswath=snakemake.wildcards.iw, slc_paths=[Path(p) for p in snakemake.input.slcs],
                          workdir=Path(snakemake.params.workdir), log_path=Path(snakemake.log.gpt))
