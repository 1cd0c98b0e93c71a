# Catalog stage: the filtered, deduplicated event table (aggregate) and one record per event.


rule catalog:
    """Filter and deduplicate the catalog; events.csv lists the selected events."""
    input:
        config["catalog"]["path"],
    output:
        events=res("catalog/events.csv"),
        summary=res("catalog/summary.json"),
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


rule event_record:
    """One event's record. It depends on the catalog only through its own content (a param), so a
    catalog update re-runs exactly the new and changed events. Runs in the main process (it only
    writes a few hundred bytes), hence localrule and no conda environment."""
    output:
        res("catalog/events/{event}.json"),
    params:
        record=event_record_json,
    localrule: True
    log:
        "logs/catalog/events/{event}.log",
    benchmark:
        res("benchmarks/catalog/events/{event}.tsv")
    run:
        from quakesar.atomic import write_text

        write_text(output[0], params.record)


rule catalog_all:
    """The catalog stage alone: events.csv and every selected event's record (`snakemake catalog_all`)."""
    input:
        res("catalog/events.csv"),
        expand(res("catalog/events/{event}.json"), event=EVENTS),
    localrule: True
