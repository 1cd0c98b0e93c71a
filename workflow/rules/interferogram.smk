# Interferogram stage: one canonical interferogram per event and subswath, whatever the backend
# (docs/architecture.md "Canonical interferogram"; native backend: docs/interferogram-native.md).


_IFG_QUICKLOOK = {"png": res("interferograms/{event}/{iw}.png")} if config["interferogram"]["quicklook"] else {}


rule interferogram:
    """Canonical interferogram (i, q, coherence, tie-point geolocation, optional unwrapped phase and
    LOS displacement, truth LOS for synthetic scenes) of one event and subswath, and its quicklook."""
    input:
        unpack(interferogram_inputs),
    output:
        h5=res("interferograms/{event}/{iw}.h5"),
        **_IFG_QUICKLOOK,
    params:
        cfg=config["interferogram"],
        backend=config["interferogram"]["backend"],
        workdir=lambda wc: res(f"work/snap/{wc.event}/{wc.iw}"),
    threads: 2
    resources:
        mem_mb=interferogram_mem_mb,
    log:
        main="logs/interferogram/{event}/{iw}.log",
        gpt="logs/interferogram/{event}/{iw}.gpt.log",
    benchmark:
        res("benchmarks/interferogram/{event}/{iw}.tsv")
    conda:
        "../../envs/interferogram.yaml"
    script:
        "../scripts/interferogram.py"
