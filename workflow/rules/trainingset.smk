# Training-data tier: synthetic training events simulated straight to patches (quakesar.trainingset,
# docs/learning.md "Training data"). Its events are real catalog events away from every validation and
# test event of the dataset split, so it runs after `dataset`; validation and test stay full-pipeline.

TRAININGSET = bool(config["trainingset"]["enabled"])
TRAININGSET_SHARDS = list(range(int(config["trainingset"]["shards"])))
TRAININGSET_INDEX = [res("trainingset/index.csv")] if TRAININGSET else []


rule trainingset_events:
    """The synthetic training events: source catalog events (filters of trainingset.catalog), minus those
    near a validation or test event, times trainingset.realisations."""
    input:
        splits=res("dataset/splits.json"),
        catalog=res("catalog/events.csv"),
    output:
        res("trainingset/events.json"),
    params:
        cfg=as_json({"catalog": config["catalog"], "trainingset": config["trainingset"]}),
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=1000,
    log:
        "logs/trainingset/events.log",
    benchmark:
        res("benchmarks/trainingset/events.tsv")
    conda:
        "../../envs/simulate.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.trainingset.rule events --cfg {params.cfg:q} --seed {params.seed}"
        " --splits {input.splits:q} --catalog-events {input.catalog:q} --out {output:q} --log {log:q}"


rule trainingset_shard:
    """One shard of the tier: every n-th planned event simulated by quakesar.synthetic.patchsim."""
    input:
        res("trainingset/events.json"),
    output:
        h5=res("trainingset/shard{shard}.h5"),
        csv=res("trainingset/shard{shard}.csv"),
        summary=res("trainingset/shard{shard}.summary.json"),
    wildcard_constraints:
        shard=r"\d+",
    params:
        cfg=as_json({k: config[k] for k in ("simulate", "interferogram", "patches", "trainingset")}),
        seed=config["seed"],
        shards=len(TRAININGSET_SHARDS),
    threads: 1
    resources:
        mem_mb=2000,
    log:
        "logs/trainingset/shard{shard}.log",
    benchmark:
        res("benchmarks/trainingset/shard{shard}.tsv")
    conda:
        "../../envs/simulate.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.trainingset.rule shard --cfg {params.cfg:q} --seed {params.seed}"
        " --events {input:q} --shard {wildcards.shard} --shards {params.shards}"
        " --out {output.h5:q} {output.csv:q} {output.summary:q} --log {log:q}"


rule trainingset_index:
    """The tier's merged index (every shard's rows, h5 paths relative to it) and summary."""
    input:
        csvs=expand(res("trainingset/shard{shard}.csv"), shard=TRAININGSET_SHARDS),
        summaries=expand(res("trainingset/shard{shard}.summary.json"), shard=TRAININGSET_SHARDS),
    output:
        index=res("trainingset/index.csv"),
        summary=res("trainingset/summary.json"),
    threads: 1
    resources:
        mem_mb=2000,
    log:
        "logs/trainingset/index.log",
    benchmark:
        res("benchmarks/trainingset/index.tsv")
    conda:
        "../../envs/simulate.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.trainingset.rule index --csvs {input.csvs:q} --summaries {input.summaries:q}"
        " --out {output.index:q} {output.summary:q} --log {log:q}"
