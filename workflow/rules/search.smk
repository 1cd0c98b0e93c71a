# Search stage (source: asf): one checkpoint per event chooses the Sentinel-1 pair and the subswaths
# and bursts over the epicentre (docs/architecture.md "Pairs", docs/real-data.md). The later rules
# learn which subswaths to process and which granules to download from its output.
import json as _json

from quakesar.asf.download import local_name as _asf_local_name


checkpoint search:
    """Query ASF around the event, choose the pair(s), record every candidate with its reason.
    No valid pair is a recorded outcome (status no_pair): the event then has no subswaths."""
    input:
        event=event_record,
    output:
        res("pairs/{event}.json"),
    params:
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


def _asf_pairs(wildcards):
    """The event's pairs document (after its search checkpoint has run) and its path."""
    path = checkpoints.search.get(event=wildcards.event).output[0]
    with open(path) as fh:
        return _json.load(fh), path


def _asf_best_pair(wildcards):
    doc, path = _asf_pairs(wildcards)
    if doc.get("status") != "ok" or not doc.get("pairs"):
        return None, path
    return doc["pairs"][0], path


def asf_subswaths(wildcards):
    """Subswaths of the event's chosen pair that see the epicentre; [] when it has no pair."""
    pair, _ = _asf_best_pair(wildcards)
    return [] if pair is None else list(pair["subswaths"])


def _asf_granule_records(pair):
    """Records (scene, url, bytes, md5) of the granules of a pair, reference first."""
    out = []
    for role in ("reference", "secondary"):
        rec = pair[role]
        out.extend(rec["bursts"] if rec.get("bursts") else [rec])
    return out


def asf_granule_files(wildcards):
    """Local files of the event's chosen pair in the shared SLC cache (reference first)."""
    pair, _ = _asf_best_pair(wildcards)
    if pair is None:
        return []
    return [f"{config['download']['dir']}/{_asf_local_name(r)}" for r in _asf_granule_records(pair)]


def asf_interferogram_inputs(wildcards):
    """Inputs of an ASF interferogram: the pairs JSON and the [reference, secondary] SLCs (or the
    burst files of both dates with search.burst_products), plus orbit manifests with download.orbits."""
    pair, path = _asf_best_pair(wildcards)
    if pair is None:
        raise ValueError(f"{path}: event {wildcards.event} has no pair; it has no subswaths to process")
    if config["search"]["burst_products"] and config["interferogram"]["backend"] == "snap":
        raise ValueError(
            "search.burst_products: true downloads ASF burst products (GeoTIFF + XML), which the snap "
            "backend cannot read (it reads SAFE zips); set search.burst_products: false to process with SNAP"
        )
    inputs = {"pairs": path, "slcs": asf_granule_files(wildcards)}
    if config["download"]["orbits"]:
        inputs["orbits"] = [f"{config['download']['dir']}/orbits/{r['scene']}.json" for r in (pair["reference"], pair["secondary"])]
    return inputs
