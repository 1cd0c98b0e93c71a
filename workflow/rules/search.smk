# Search stage (source: asf): one checkpoint per event chooses the Sentinel-1 pair and the subswaths
# and bursts over the epicentre (docs/architecture.md "Pairs", docs/real-data.md). The later rules
# learn which subswaths to process and which granules to download from its output.


checkpoint search:
    """Query ASF around the event, choose the pair(s), record every candidate with its reason.
    No valid pair is a recorded outcome (status no_pair): the event then has no subswaths."""
    output:
        res("pairs/{event}.json"),
    params:
        record=event_record_json,
        cfg=config["search"],
    retries: 2
    log:
        "logs/search/{event}.log",
    benchmark:
        res("benchmarks/search/{event}.tsv")
    conda:
        "../../envs/asf.yaml"
    script:
        "../scripts/search.py"

