# quakesar: earthquake catalog -> Sentinel-1 interferograms -> ML patches -> trained models.
# Run:  snakemake --cores 2            (embedded default: synthetic scenes, native backend)
#       snakemake --cores 2 --configfile .test/config.yaml        (tiny CI config)
# Layout and data contracts: docs/architecture.md. The rules only wire files together; all logic
# lives in the quakesar package (src/quakesar), which the Snakefile imports from this checkout.
import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

# Planning the DAG of a large catalog creates millions of long-lived objects (jobs, paths, wildcards).
# With CPython's default thresholds (700, 10, 10) the cyclic garbage collector keeps re-scanning them:
# for 10,000 events it took 29 of the 75 s of planning (benchmarks/dag_scaling.py, docs/scale-out.md).
# Collecting young objects every 50,000 allocations instead of 700 leaves memory as it was
# (reference counting frees almost everything; the jobs stay alive until the end anyway).
gc.set_threshold(50_000, 20, 20)

from quakesar.config import SCHEMA_PATH, prepare_config  # noqa: E402
from snakemake.utils import min_version  # noqa: E402

min_version("9.0")

configfile: "config/config.yaml"

# Fill defaults and validate at start-up: an unknown key or a wrong type stops here with its dotted path.
_prepared = prepare_config(config, SCHEMA_PATH, source="snakemake config")
config.clear()
config.update(_prepared)

wildcard_constraints:
    event=r"[A-Za-z0-9_-]+",
    iw=r"IW[123]",
    granule=r"[A-Za-z0-9_-]+",


include: "workflow/rules/common.smk"
include: "workflow/rules/common_learning.smk"
include: "workflow/rules/catalog.smk"
include: "workflow/rules/search.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/interferogram.smk"
include: "workflow/rules/external.smk"
include: "workflow/rules/patches.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/trainingset.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/ablation.smk"
# Optional stages: each adds its targets to `rule all` and its markdown summary to the report.
REPORT_FRAGMENTS = []
TIMESERIES_TARGETS = []
if config["timeseries"]["enabled"]:  # the time-series auto-encoder stage (docs/timeseries.md)
    include: "workflow/rules/timeseries.smk"

    REPORT_FRAGMENTS += [f for f in TIMESERIES_TARGETS if f.endswith("summary.md")]

include: "workflow/rules/report.smk"


rule all:
    """Everything: catalog, per-event data, dataset, trained models, ablation and report."""
    input:
        res("catalog/events.csv"),
        res("dataset/index.csv"),
        TIMESERIES_TARGETS,
        TRAIN_TARGETS,
        ABLATION_TARGETS,
        REPORT_TARGETS,
        PREDICT_TARGETS,
    default_target: True
