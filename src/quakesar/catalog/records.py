"""Writing the catalog stage's outputs: ``events.csv`` and one JSON record per event.

Records are written with :func:`quakesar.atomic.write_if_changed`: an unchanged event keeps its
file and mtime, so nothing downstream of it is recomputed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from quakesar.atomic import write_if_changed, write_json
from quakesar.catalog.model import Event

CSV_COLUMNS = ("id", "time", "latitude", "longitude", "depth_km", "magnitude", "magnitude_type", "mw",
               "place", "type", "updated", "source_file", "source_line")


def events_csv_text(events: Sequence[Event]) -> str:
    """The ``events.csv`` text: one row per event, columns :data:`CSV_COLUMNS`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for ev in events:
        writer.writerow(ev.record())
    return buf.getvalue()


def write_catalog_outputs(events: Sequence[Event], events_csv: Path, records_dir: Path | None = None,
                          summary: dict[str, Any] | None = None, summary_json: Path | None = None) -> dict[str, int]:
    """Write events.csv, the per-event records (only those that changed) and an optional summary."""
    write_if_changed(events_csv, events_csv_text(events))
    changed = 0
    if records_dir is not None:
        for ev in events:
            changed += write_if_changed(Path(records_dir) / f"{ev.id}.json", ev.record_json())
    if summary_json is not None and summary is not None:
        write_json(summary_json, summary)
    return {"events": len(events), "records_written": changed}
