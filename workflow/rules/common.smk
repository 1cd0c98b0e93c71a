# Shared definitions: results directory, selected events, input functions.
import json as _json
import os
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

from quakesar.asf.download import local_name as _asf_local_name
from quakesar.catalog.stage import load_selection

RESULTS = config["results"]


# The event list is computed from the catalog at parse time (milliseconds per thousand events), so
# that adding or changing one event adds or re-runs only that event's jobs. A malformed catalog or
# an empty selection stops here with a message naming the file/line/key.
# A relative catalog path is looked up in the working directory first, then in this workflow's
# checkout, so the bundled catalog is found when running with `-d elsewhere`.
if not Path(config["catalog"]["path"]).is_absolute() and not Path(config["catalog"]["path"]).exists():
    _bundled = Path(workflow.basedir) / config["catalog"]["path"]
    if _bundled.exists():
        config["catalog"]["path"] = str(_bundled)
_SELECTION = load_selection(config["catalog"])
EVENTS = [ev.id for ev in _SELECTION.events]


def as_json(section):
    """A config section as canonical JSON text: the `params` of the per-event `shell:` rules, which
    pass it on the command line to their `python -m quakesar.<stage>.rule` entry point."""
    return _json.dumps(section, sort_keys=True, separators=(",", ":"))


# Each event's record (the same content as results/catalog/events/{event}.json), compact: the
# per-event jobs get it as a param, so a change of one event re-runs only that event's jobs.
EVENT_RECORD_JSON = {ev.id: as_json(ev.stable_record()) for ev in _SELECTION.events}


def event_record_json(wildcards):
    """The record text of a selected event; a clear error for an id the selection does not contain."""
    try:
        return EVENT_RECORD_JSON[wildcards.event]
    except KeyError:
        raise ValueError(
            f"event {wildcards.event!r} is not in the catalog selection of this config "
            f"({len(EVENTS)} events; see {RESULTS}/catalog/events.csv or catalog.event_ids)"
        ) from None


def res(path):
    """A path under the results directory."""
    return f"{RESULTS}/{path}"


# The interpreter of the per-event `shell:` rules, $QUAKESAR_PYTHON in their commands: the rule's
# conda environment's `python` with --sdm conda (Snakemake puts the environment first on PATH), else
# the interpreter running Snakemake (the venv quakesar is installed in, whatever PATH says). An
# environment variable rather than a {placeholder}: it is not part of the rule's code or params, so
# switching environments does not re-run finished jobs. Set it beforehand to use another interpreter.
# Jobs on SLURM parse this file again and set it the same way.
os.environ.setdefault(
    "QUAKESAR_PYTHON",
    "python" if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method else sys.executable,
)


# Jobs run this checkout's quakesar, whatever the interpreter has installed (a venv shared between
# checkouts, or an editable install of another one): its src/ goes first on the jobs' PYTHONPATH (shell
# and script rules, locally and on SLURM, whose jobs parse this file again), and every job checks that
# it imported quakesar from $QUAKESAR_WORKFLOW_SRC, refusing to run otherwise (quakesar.rulejob:
# with --sdm conda Snakemake clears PYTHONPATH and the environment's own install must be this one).
# Environment variables, not params: they do not re-run finished jobs. Planning imported quakesar
# from here too (the Snakefile puts src/ first on sys.path); anything else stops the run now.
import quakesar as _quakesar
from quakesar.rulejob import pin_workflow_src

_WORKFLOW_SRC = pin_workflow_src(Path(workflow.basedir, "src"))
from snakemake.exceptions import WorkflowError

if Path(_quakesar.__file__).resolve().parent != Path(_WORKFLOW_SRC, "quakesar"):
    raise WorkflowError(
        f"this workflow ({workflow.basedir}) was planned with quakesar from {Path(_quakesar.__file__).parent}, "
        f"not its own {_WORKFLOW_SRC}/quakesar; run the Snakefile of the checkout whose code you mean to run"
    )


# The subswaths every synthetic event is simulated and processed in (simulate.subswaths).
SYNTHETIC_SUBSWATHS = list(config["simulate"]["subswaths"])


def event_subswaths(wildcards):
    """Subswaths processed for an event: all configured ones for the synthetic source, those
    covering the epicentre (from the search checkpoint) for ASF."""
    if config["source"] == "synthetic":
        return SYNTHETIC_SUBSWATHS
    return asf_subswaths(wildcards)


def event_interferograms(wildcards):
    """The canonical interferograms of an event, one per processed subswath (source: external: one
    pseudo-radar interferogram per imported product, workflow/rules/external.smk)."""
    if config["source"] == "external":
        return external_interferograms(wildcards)
    return [res(f"interferograms/{wildcards.event}/{iw}.h5") for iw in event_subswaths(wildcards)]


# ---- input functions of search.smk


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
    inputs = {"pairs": path, "slcs": asf_granule_files(wildcards)}
    if config["download"]["orbits"]:
        inputs["orbits"] = [f"{config['download']['dir']}/orbits/{r['scene']}.json" for r in (pair["reference"], pair["secondary"])]
    return inputs


# ---- input functions of download.smk


def _asf_record(wildcards):
    """The stable part (scene, url, bytes, md5, platform, start) of a granule's record, from the first
    searched event that needs it. A param, not an input: re-searching an event must not re-download."""
    rec = _ASF_GRANULES.record(wildcards.granule)
    return {k: rec.get(k) for k in ("scene", "url", "bytes", "md5", "platform", "start")}


def _slc_output(pattern):
    return temp(pattern) if config["download"]["cleanup"] else pattern


# ---- input functions of interferogram.smk


def snap_mem_mb(wildcards, attempt):
    """SNAP's interferogram jobs: gpt's cache plus the JVM, 16 GB, more on a retry after running out."""
    return 16000 * attempt


# ---- external products (external.smk; EXTERNAL_PRODUCTS is planned there) ----

def _external_spec(wildcards):
    try:
        return EXTERNAL_PRODUCTS[wildcards.event][wildcards.product]
    except KeyError:
        raise ValueError(f"event {wildcards.event}: no external product {wildcards.product!r} "
                         f"(planned: {sorted(EXTERNAL_PRODUCTS.get(wildcards.event, {}))})") from None


def external_interferograms(wildcards):
    """The pseudo-radar canonical interferograms of an event's external products ([] without products)."""
    return [res(f"interferograms/{wildcards.event}/ext_{p}.h5") for p in sorted(EXTERNAL_PRODUCTS.get(wildcards.event, {}))]
