"""The event record files, the per-event param and docs/architecture.md agree (issue 17, item 7).

docs/architecture.md listed ``source_file``/``source_line`` among the keys of
``results/catalog/events/{event}.json``, which the files never had. The record is deliberately the
stable part of an event (what its jobs depend on, so that provenance changes do not re-run finished
events, issue 16); the provenance is in ``events.csv``. The keys documented in the "Event record"
tables are read from the page and compared with real outputs of the catalog stage and with the
param that ``workflow/rules/common.smk`` builds (``Event.stable_record()``).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from quakesar.catalog import read_catalog, select_events
from quakesar.catalog.records import write_catalog_outputs
from quakesar.config import SCHEMA_PATH, fill_defaults, load_schema

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "catalog" / "comcat_small.csv"


def _documented() -> tuple[list[str], list[str]]:
    """(record keys, provenance columns) from the two tables of the "Event record" section."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Event record", 1)[1].split("\n## ", 1)[0]
    record_part, _, provenance_part = section.partition("provenance columns")
    keys = lambda part: re.findall(r"^\| `(\w+)` \|", part, flags=re.M)  # noqa: E731
    return keys(record_part), keys(provenance_part)


def test_record_files_param_and_docs_agree(tmp_path):
    record_keys, provenance = _documented()
    assert record_keys and provenance, "docs/architecture.md: the Event record tables are missing"
    cfg = fill_defaults({"catalog": {"path": str(FIXTURE), "min_magnitude": 6.0}}, load_schema(SCHEMA_PATH))["catalog"]
    events = select_events(read_catalog(FIXTURE), cfg).events
    out = tmp_path / "catalog"
    write_catalog_outputs(events, out / "events.csv", out / "events")
    for ev in events:
        on_disk = json.loads((out / "events" / f"{ev.id}.json").read_text())
        assert sorted(on_disk) == sorted(record_keys), ev.id  # the file
        assert on_disk == ev.stable_record()  # the per-event param (common.smk: as_json(ev.stable_record()))
    with (out / "events.csv").open() as fh:
        header = next(csv.reader(fh))
    assert header == record_keys + provenance
    rows = list(csv.DictReader((out / "events.csv").open()))
    assert all(r["source_file"] == str(FIXTURE) and int(r["source_line"]) > 1 for r in rows)


def test_provenance_is_not_part_of_the_param():
    """Moving an event to another line of the catalog (or ComCat re-stamping `updated`) changes
    no record: finished events do not re-run."""
    from dataclasses import replace

    ev = read_catalog(FIXTURE)[0]
    moved = replace(ev, source_line=ev.source_line + 100, updated="2030-01-01T00:00:00.000Z", source_file="other.csv")
    assert moved.stable_record() == ev.stable_record() and moved.record_json() == ev.record_json()
