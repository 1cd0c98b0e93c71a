# Patch stage: tile every interferogram of an event into ML patches (HDF5 pixels + CSV metadata).


rule patches:
    """Tiles of all subswath interferograms of one event; corners/centres from the interferograms'
    own geolocation, geodesic distance/bearing to the epicentre, windows below the valid fraction
    dropped and counted (summary JSON). Rewrites nothing when its inputs are unchanged."""
    input:
        interferograms=event_interferograms,
    output:
        h5=res("patches/{event}.h5"),
        csv=res("patches/{event}.csv"),
        summary=res("patches/{event}.summary.json"),
    params:
        record=event_record_json,
        cfg=as_json(config["patches"]),
        # the CSV layout (quakesar.patches.tiling.FORMAT_VERSION): a new layout re-tiles finished events
        layout="quakesar-patches-2",
    threads: 1
    resources:
        mem_mb=2000,
    log:
        "logs/patches/{event}.log",
    benchmark:
        res("benchmarks/patches/{event}.tsv")
    conda:
        "../../envs/patches.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.patches.rule --record {params.record:q} --cfg {params.cfg:q} --log {log:q}"
        " --interferograms {input.interferograms:q} --h5 {output.h5:q} --csv {output.csv:q}"
        " --summary {output.summary:q}"
