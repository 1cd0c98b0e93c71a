# Shared definitions: results directory, selected events, input functions.
from quakesar.catalog.stage import load_selection

RESULTS = config["results"]


# The event list is computed from the catalog at parse time (milliseconds per thousand events), so
# that adding or changing one event adds or re-runs only that event's jobs. A malformed catalog or
# an empty selection stops here with a message naming the file/line/key.
_SELECTION = load_selection(config["catalog"])
EVENTS = [ev.id for ev in _SELECTION.events]
EVENT_RECORD_JSON = {ev.id: ev.record_json() for ev in _SELECTION.events}


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


def event_record(wildcards):
    """The JSON record of the event a job works on (its only dependency on the catalog)."""
    return res(f"catalog/events/{wildcards.event}.json")


def event_subswaths(wildcards):
    """Subswaths processed for an event: all configured ones for the synthetic source, those
    covering the epicentre (from the search checkpoint) for ASF."""
    if config["source"] == "synthetic":
        return list(config["simulate"]["subswaths"])
    return asf_subswaths(wildcards)


def event_interferograms(wildcards):
    """The canonical interferograms of an event, one per processed subswath."""
    return [res(f"interferograms/{wildcards.event}/{iw}.h5") for iw in event_subswaths(wildcards)]
