# Time-series stage (issue 15, docs/timeseries.md): synthetic series of geocoded LOS tiles -> train the
# spatio-temporal auto-encoder -> evaluate it against the best single pair and a plain stack -> figures.
# Included from the Snakefile when timeseries.enabled is true. No functions here (snakemake --lint):
# the logic is quakesar.timeseries (entry point quakesar.timeseries.rule).

TS_SECTION = as_json(config["timeseries"])
TS_DIR = res("timeseries")
TIMESERIES_TARGETS = [
    f"{TS_DIR}/evaluate/metrics.json",
    f"{TS_DIR}/figures/detection.png",
    f"{TS_DIR}/figures/example.png",
    f"{TS_DIR}/figures/summary.md",
]


rule timeseries_simulate:
    """Synthetic training and validation series (Okada step, slow slip or nothing, per-date atmosphere)."""
    output:
        train=f"{TS_DIR}/data/train.h5",
        val=f"{TS_DIR}/data/val.h5",
    params:
        cfg=TS_SECTION,
        seed=config["seed"],
    resources:
        mem_mb=2000,
    log:
        "logs/timeseries/simulate.log",
    benchmark:
        res("benchmarks/timeseries/simulate.tsv")
    conda:
        "../../envs/learning.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.timeseries.rule simulate --cfg {params.cfg:q} --seed {params.seed}"
        " --train {output.train:q} --val {output.val:q} --log {log:q}"


rule timeseries_train:
    """Train the auto-encoder (best validation epoch in checkpoint.pt; a killed run resumes from last.pt)."""
    input:
        train=f"{TS_DIR}/data/train.h5",
        val=f"{TS_DIR}/data/val.h5",
    output:
        checkpoint=f"{TS_DIR}/model/checkpoint.pt",
        history=f"{TS_DIR}/model/history.csv",
        summary=f"{TS_DIR}/model/train.json",
    params:
        cfg=TS_SECTION,
        seed=config["seed"],
    threads: config["timeseries"]["train"]["threads"]
    resources:
        mem_mb=8000,
    log:
        "logs/timeseries/train.log",
    benchmark:
        res("benchmarks/timeseries/train.tsv")
    conda:
        "../../envs/learning.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.timeseries.rule train --cfg {params.cfg:q} --seed {params.seed}"
        " --train {input.train:q} --val {input.val:q} --checkpoint {output.checkpoint:q} --threads {threads} --log {log:q}"


rule timeseries_evaluate:
    """Detection limit vs noise, denoising RMSE vs best pair and plain stack, detectable magnitude."""
    input:
        checkpoint=f"{TS_DIR}/model/checkpoint.pt",
        catalog=config["catalog"]["path"],
    output:
        metrics=f"{TS_DIR}/evaluate/metrics.json",
    params:
        cfg=TS_SECTION,
        seed=config["seed"],
    threads: config["timeseries"]["train"]["threads"]
    resources:
        mem_mb=4000,
    log:
        "logs/timeseries/evaluate.log",
    benchmark:
        res("benchmarks/timeseries/evaluate.tsv")
    conda:
        "../../envs/learning.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.timeseries.rule evaluate --cfg {params.cfg:q} --seed {params.seed}"
        " --checkpoint {input.checkpoint:q} --catalog {input.catalog:q} --out {output.metrics:q} --threads {threads}"
        " --log {log:q}"


rule timeseries_figures:
    """Detection curves, an example tile and the report fragment (quakesar.timeseries.report.summary_markdown)."""
    input:
        metrics=f"{TS_DIR}/evaluate/metrics.json",
        checkpoint=f"{TS_DIR}/model/checkpoint.pt",
    output:
        detection=f"{TS_DIR}/figures/detection.png",
        example=f"{TS_DIR}/figures/example.png",
        summary=f"{TS_DIR}/figures/summary.md",
    params:
        seed=config["seed"],
    resources:
        mem_mb=2000,
    log:
        "logs/timeseries/figures.log",
    benchmark:
        res("benchmarks/timeseries/figures.tsv")
    conda:
        "../../envs/learning.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.timeseries.rule figures --seed {params.seed} --metrics {input.metrics:q}"
        " --checkpoint {input.checkpoint:q} --detection {output.detection:q} --example {output.example:q}"
        " --summary {output.summary:q} --log {log:q}"
