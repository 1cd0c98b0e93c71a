# Ranking ablation: the magnitude model of ablation.model trained with every ablation.lambdas value
# over ablation.seeds, everything else (data, schedule, initial weights, batch order) identical,
# then the paired lambda > 0 vs lambda = 0 comparison (results/ablation/ranking.json + figure).

ABLATION_CFG = {**{k: v for k, v in TRAIN_PARAMS.items() if k != "ranking_lambda"},
                "epochs": config["ablation"]["epochs"] or config["train"]["epochs"]}
ABLATION_RUNS = expand(
    res("models/magnitude/{model}/lambda{lam}_seed{seed}/metrics.json"),
    model=[config["ablation"]["model"]],
    lam=[f"{float(x):g}" for x in config["ablation"]["lambdas"]],
    seed=config["ablation"]["seeds"],
)
ABLATION_TARGETS = [res("ablation/ranking.json")] if config["ablation"]["enabled"] else []


rule ablation_train:
    """One magnitude run of the ranking ablation (lambda = {wildcards.lam}, seed {wildcards.seed})."""
    input:
        index=res("dataset/index.csv"),
        norm=res("dataset/norm_stats.json"),
        splits=res("dataset/splits.json"),
    output:
        checkpoint=res("models/magnitude/{model}/lambda{lam}_seed{seed}/checkpoint.pt"),
        metrics=res("models/magnitude/{model}/lambda{lam}_seed{seed}/metrics.json"),
        predictions=res("models/magnitude/{model}/lambda{lam}_seed{seed}/predictions.csv"),
    wildcard_constraints:
        model=r"[A-Za-z0-9_]+",
        lam=r"[0-9.]+(e-?[0-9]+)?",
        seed=r"\d+",
    params:
        cfg=ABLATION_CFG,
        ranking_lambda=lambda wc: float(wc.lam),
    threads: config["train"]["threads"]
    resources:
        mem_mb=lambda wc: TRAIN_MEM_MB.get(wc.model, 8000),
        runtime=lambda wc: 30 if wc.model == "smallcnn" else 240,
        **TRAIN_GPU,
    log:
        "logs/ablation/{model}/lambda{lam}_seed{seed}.log",
    benchmark:
        res("benchmarks/ablation/{model}/lambda{lam}_seed{seed}.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/train.py"


rule ablation:
    """Paired (seed, event) difference of event-level magnitude MAE, lambda > 0 minus lambda = 0, with a
    bootstrap CI over events."""
    input:
        metrics=ABLATION_RUNS,
    output:
        json=report(res("ablation/ranking.json"), caption="../report/ablation.rst", category="Ranking ablation"),
        png=report(res("ablation/ranking.png"), caption="../report/ablation.rst", category="Ranking ablation"),
    params:
        bootstrap=config["train"]["bootstrap"],
    threads: 1
    resources:
        mem_mb=1000,
    log:
        "logs/ablation/ablation.log",
    benchmark:
        res("benchmarks/ablation/ablation.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/ablation.py"
