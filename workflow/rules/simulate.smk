# Simulate stage: the embedded default data source. One job per event simulates the event's
# synthetic Sentinel-1 pair and writes one scene per configured subswath
# (docs/architecture.md "Synthetic scene", docs/synthetic.md).
# Per-event rules run `python -m quakesar.<stage>.rule` (shell:) rather than a script: a script
# costs Snakemake about 1 ms per job while planning (quakesar/rulejob.py, docs/scale-out.md).


_SIM_QUICKLOOK = bool(config["simulate"]["quicklook"])


rule simulate:
    """Synthetic SLC pair (reference, secondary), geometry and ground truth of one event, one HDF5
    per subswath, plus wrapped-phase quicklooks."""
    output:
        scenes=expand(res("scenes/{{event}}/{iw}.h5"), iw=SYNTHETIC_SUBSWATHS),
        **({"quicklooks": expand(res("scenes/{{event}}/{iw}.png"), iw=SYNTHETIC_SUBSWATHS)} if _SIM_QUICKLOOK else {}),
    params:
        record=event_record_json,
        cfg=as_json(config["simulate"]),
        seed=config["seed"],
        subswaths=SYNTHETIC_SUBSWATHS,
    threads: 2 if config["simulate"]["mode"] == "full" else 1  # full mode: speckle fields on a helper thread
    resources:
        # peak RSS (benchmarks/results/simulate_fullres.json): about 1.5 GB at full resolution (line blocks of a
        # 25k-sample subswath plus the frame's ground fields), about 0.35 GB at reduction 8; doubled as margin.
        # A plain number, not a function of `attempt`: every callable costs Snakemake a signature inspection per job.
        mem_mb=4000 if config["simulate"]["mode"] == "full" else 1000,
    log:
        "logs/simulate/{event}.log",
    benchmark:
        res("benchmarks/simulate/{event}.tsv")
    conda:
        "../../envs/simulate.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.synthetic.rule --record {params.record:q} --cfg {params.cfg:q} --seed {params.seed}"
        " --threads {threads} --log {log:q} --subswaths {params.subswaths} --scenes {output.scenes:q}"
        + (" --quicklooks {output.quicklooks:q}" if _SIM_QUICKLOOK else "")
