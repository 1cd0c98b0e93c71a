# Dataset stage: merged index of all events' patches, leak-free split, train-only normalisation.


rule dataset:
    """index.csv (no pixel copies), splits.json (events grouped by shared scene / overlapping
    footprint and time, stratified by magnitude), norm_stats.json (training split only), summary."""
    input:
        csvs=expand(res("patches/{event}.csv"), event=EVENTS),
        h5=expand(res("patches/{event}.h5"), event=EVENTS),
    output:
        index=res("dataset/index.csv"),
        splits=res("dataset/splits.json"),
        norm=res("dataset/norm_stats.json"),
        summary=res("dataset/summary.json"),
    params:
        cfg=config["dataset"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
    log:
        "logs/dataset/dataset.log",
    benchmark:
        res("benchmarks/dataset/dataset.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/dataset.py"
