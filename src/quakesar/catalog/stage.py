"""The catalog stage as one call: read the configured catalog, select, and write the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quakesar.catalog.read import read_catalog
from quakesar.catalog.records import write_catalog_outputs
from quakesar.catalog.select import Selection, select_events


def load_selection(cfg: dict[str, Any], base_dir: Path | None = None) -> Selection:
    """Read ``cfg['path']`` (relative to ``base_dir``) in its format and apply the filters."""
    path = Path(cfg["path"])
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    events = read_catalog(path, cfg.get("format", "auto"), cfg.get("fdsn_url"), query=cfg)
    return select_events(events, cfg)


def run_catalog(cfg: dict[str, Any], events_csv: Path, summary_json: Path, records_dir: Path | None = None) -> dict[str, int]:
    """Write ``events.csv``, ``summary.json`` and (optionally) the per-event records for the catalog config."""
    sel = load_selection(cfg)
    summary = {"catalog": str(cfg["path"]), **sel.summary()}
    return write_catalog_outputs(sel.events, events_csv, records_dir, summary, summary_json)
