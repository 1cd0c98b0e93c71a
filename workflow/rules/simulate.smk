# Simulate stage: the embedded default data source. One job per event simulates the event's
# synthetic Sentinel-1 pair and writes one scene per configured subswath
# (docs/architecture.md "Synthetic scene", docs/synthetic.md).


_SIM_SUBSWATHS = list(config["simulate"]["subswaths"])
_SIM_QUICKLOOKS = (
    {"quicklooks": expand(res("scenes/{{event}}/{iw}.png"), iw=_SIM_SUBSWATHS)}
    if config["simulate"]["quicklook"] else {}
)


rule simulate:
    """Synthetic SLC pair (reference, secondary), geometry and ground truth of one event, one HDF5
    per subswath, plus wrapped-phase quicklooks."""
    input:
        record=event_record,
    output:
        scenes=expand(res("scenes/{{event}}/{iw}.h5"), iw=_SIM_SUBSWATHS),
        **_SIM_QUICKLOOKS,
    params:
        cfg=config["simulate"],
        seed=config["seed"],
        subswaths=_SIM_SUBSWATHS,
    threads: 2 if config["simulate"]["mode"] == "full" else 1  # full mode: speckle fields on a helper thread
    resources:
        # peak RSS (benchmarks/results/simulate_fullres.json): about 1.5 GB at full resolution (line blocks of a
        # 25k-sample subswath plus the frame's ground fields), about 0.35 GB at reduction 8; doubled as margin
        mem_mb=lambda wildcards, attempt: (4000 if config["simulate"]["mode"] == "full" else 1000) * attempt,
    log:
        "logs/simulate/{event}.log",
    benchmark:
        res("benchmarks/simulate/{event}.tsv")
    conda:
        "../../envs/simulate.yaml"
    script:
        "../scripts/simulate.py"
