# Ranking ablation of the gated model: ablation.model trained with every ablation.lambdas value over
# ablation.seeds (default train.seeds), everything else (data, schedule, initial weights, batch order)
# identical; a run that coincides with a main run (lambda = train.ranking_lambda, a seed and model of the
# main runs, same epochs) is that run. Rule `ablation` pairs lambda > 0 with lambda = 0 by seed and test
# event (results/ablation/ranking.json + figure).

ABLATION_RUNS = [f"{ablation_run(lam, s)}/events.csv" for lam in config["ablation"]["lambdas"] for s in ABLATION_SEEDS]
ABLATION_TARGETS = [res("ablation/ranking.json")] if config["ablation"]["enabled"] else []


rule ablation:
    """Paired (seed, event) difference of event-level |Mw error| of the gated model's own magnitude answers,
    lambda > 0 minus lambda = 0, with a bootstrap CI over events; all events and the detectable ones."""
    input:
        events=ABLATION_RUNS,
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
