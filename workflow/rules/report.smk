# Report stage: metrics tables (model and trivial baselines, bootstrap CIs), the ranking ablation and
# the figures in results/report/summary.md; the tables and figures also go into `snakemake --report`.

REPORT_TARGETS = [res("report/summary.md"), res("report/metrics.csv")]


rule report:
    """summary.md + metrics.csv + figures/ from every training run and the ablation."""
    input:
        metrics=TRAIN_TARGETS,
        ablation=ABLATION_TARGETS,
        dataset=res("dataset/summary.json"),
        trainingset=[res("trainingset/summary.json")] if TRAININGSET else [],
        # markdown summaries of the optional stages (Snakefile), appended to summary.md as they are
        extra=REPORT_FRAGMENTS,
    output:
        summary=report(res("report/summary.md"), caption="../report/summary.rst", category="Summary"),
        table=report(res("report/metrics.csv"), caption="../report/metrics.rst", category="Summary"),
    threads: 1
    resources:
        mem_mb=1000,
    log:
        "logs/report/report.log",
    benchmark:
        res("benchmarks/report/report.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/report.py"
