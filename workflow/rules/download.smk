# Download stage (source: asf): the shared SLC cache under download.dir, one job per granule.
# Concurrency is capped by the global resource download_slots (= download.max_concurrent unless a
# profile or --resources sets it). With download.cleanup the SLCs are temp(): Snakemake deletes
# each once every interferogram reading it is done, and does not fetch it again afterwards.
# The only param is the granule's stable record (URL, size, MD5): a param change re-runs a job and
# Snakemake deletes its output first, so editing download.* settings must not re-fetch the cache
# (the script reads download.* from the config instead).
from quakesar.asf.download import GranuleIndex as _GranuleIndex

if "download_slots" not in workflow.global_resources:
    workflow.register_resource("download_slots", int(config["download"]["max_concurrent"]))

_SLC_DIR = config["download"]["dir"]
_ASF_GRANULES = _GranuleIndex(res("pairs/*.json"))


rule download:
    """One verified SLC (or burst) of the shared cache: resumable, checked against ASF's size and MD5."""
    output:
        _slc_output(f"{_SLC_DIR}/{{granule}}.zip"),
    params:
        record=_asf_record,
    resources:
        download_slots=1,
    retries: 2
    log:
        "logs/download/{granule}.log",
    benchmark:
        res("benchmarks/download/{granule}.tsv")
    conda:
        "../../envs/asf.yaml"
    script:
        "../scripts/download.py"


use rule download as download_burst with:
    output:
        _slc_output(f"{_SLC_DIR}/{{granule}}.tiff"),
    log:
        "logs/download/{granule}.tiff.log",
    benchmark:
        res("benchmarks/download/{granule}.tiff.tsv")


rule orbits:
    """Precise orbit file of one granule (download.orbits), fetched with sentineleof."""
    output:
        f"{_SLC_DIR}/orbits/{{granule}}.json",
    params:
        record=_asf_record,
    resources:
        download_slots=1,
    retries: 2
    log:
        "logs/orbits/{granule}.log",
    benchmark:
        res("benchmarks/orbits/{granule}.tsv")
    conda:
        "../../envs/asf.yaml"
    script:
        "../scripts/download.py"
