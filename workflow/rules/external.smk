# External products (source: external): processed interferograms a user already has (COMET LiCSAR,
# ASF HyP3 INSAR_GAMMA / INSAR_ISCE_BURST, generic GeoTIFF or raw float32 grids) become canonical
# interferograms, one job per product: the pseudo-radar variant ext_{product}.h5 (what the unchanged
# patches rule tiles, via event_interferograms in common.smk) and the geocoded variant
# ext_{product}.geo.h5 (the product on its own grid). docs/external.md, quakesar.external.
# Products are found and validated here, at parse time (quakesar.external.plan): a missing file, an
# unknown layout or an event outside the catalog selection stops the run before any job.
from quakesar.external.plan import plan_external as _plan_external, product_files as _external_files

EXTERNAL_PRODUCTS = (
    {ev: {s.product_id: s for s in specs} for ev, specs in _plan_external(config["external"], EVENTS).items()}
    if config["source"] == "external" else {}
)
if config["source"] == "external" and not any(EXTERNAL_PRODUCTS.values()):
    raise ValueError(
        f"source: external, but none of the {len(EVENTS)} selected events has products: put them under "
        f"{config['external']['dir']}/<event id>/ (LiCSAR frame folders, HyP3 products or zips) or list them in "
        "external.events (docs/external.md)")
_EXTERNAL_QUICKLOOK = bool(config["external"]["quicklook"])
# Trained models that answer the external events (external.models: run directories of another run).
EXTERNAL_MODELS = list(config["external"]["models"]) if config["source"] == "external" else []
PREDICT_TARGETS = [res(f"predict/{ev}.json") for ev in sorted(EXTERNAL_PRODUCTS) if EXTERNAL_PRODUCTS[ev]] if EXTERNAL_MODELS else []
# What an import depends on besides its own product (its spec param): the training pixel (simulate
# mode/reduction, multilook) and the import options - not the other events' entries, so editing one
# event's products re-runs only that event's jobs.
_EXTERNAL_CFG = as_json({
    "external": {k: config["external"][k] for k in ("grid", "require_coseismic", "quicklook")},
    "simulate": {k: config["simulate"][k] for k in ("mode", "reduction")},
    "interferogram": {"multilook": config["interferogram"]["multilook"]},
})



rule import_external:
    """Canonical interferograms (pseudo-radar at the training pixel, and geocoded) of one external product."""
    input:
        lambda wc: _external_files(_external_spec(wc)),
    output:
        h5=res("interferograms/{event}/ext_{product}.h5"),
        geo=res("interferograms/{event}/ext_{product}.geo.h5"),
        **({"png": res("interferograms/{event}/ext_{product}.png")} if _EXTERNAL_QUICKLOOK else {}),
    wildcard_constraints:
        product=r"[A-Za-z0-9_-]+",
    params:
        record=event_record_json,
        spec=lambda wc: as_json(_external_spec(wc).to_json()),
        cfg=_EXTERNAL_CFG,
    threads: 1
    resources:
        mem_mb=4000,
    log:
        "logs/external/{event}/{product}.log",
    benchmark:
        res("benchmarks/external/{event}/{product}.tsv")
    conda:
        "../../envs/interferogram.yaml"
    shell:
        "$QUAKESAR_PYTHON -m quakesar.external.rule --record {params.record:q} --spec {params.spec:q}"
        " --cfg {params.cfg:q} --log {log:q} --h5 {output.h5:q} --geo-h5 {output.geo:q}"
        + (" --quicklook {output.png:q}" if _EXTERNAL_QUICKLOOK else "")


rule predict_external:
    """The trained models' event answer (detectability verdict, epicentre, Mw with 95 % intervals) on an external
    event's pseudo-radar interferograms, beside its catalog epicentre (quakesar.learning.predict)."""
    input:
        ifgs=external_interferograms,
        models=[f"{m}/checkpoint.pt" for m in EXTERNAL_MODELS],
    output:
        json=res("predict/{event}.json"),
        png=res("predict/{event}.png"),
    params:
        record=event_record_json,
        patches=as_json(config["patches"]),
    threads: 1
    resources:
        mem_mb=4000,
    log:
        "logs/predict/{event}.log",
    benchmark:
        res("benchmarks/predict/{event}.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/predict.py"
