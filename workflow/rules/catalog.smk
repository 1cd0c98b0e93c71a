# Catalog stage: the filtered, deduplicated event table (aggregate) and one record per event.


rule catalog:
    """Filter and deduplicate the catalog; events.csv lists the selected events, events/{id}.json
    holds one record per event (for the stage CLIs and for people; the per-event jobs get their
    record as a param, so a catalog update re-runs exactly the new and changed events)."""
    input:
        config["catalog"]["path"],
    output:
        events=res("catalog/events.csv"),
        summary=res("catalog/summary.json"),
        records=directory(res("catalog/events")),
    params:
        cfg=config["catalog"],
    log:
        "logs/catalog/catalog.log",
    benchmark:
        res("benchmarks/catalog/catalog.tsv")
    conda:
        "../../envs/catalog.yaml"
    script:
        "../scripts/catalog.py"


rule catalog_all:
    """The catalog stage alone: events.csv and the per-event records (`snakemake catalog_all`)."""
    input:
        res("catalog/events.csv"),
        res("catalog/events"),
    localrule: True
