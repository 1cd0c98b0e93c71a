"""Entry points of the ASF rules (``workflow/scripts/search.py``, ``download.py``): one call per job."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from quakesar.asf.download import download_record
from quakesar.asf.orbits import fetch_orbits_for_record
from quakesar.asf.search import load_event, search_event

log = logging.getLogger(__name__)


def run_search(event: str | Path | dict[str, Any], out_json: str | Path, cfg: dict[str, Any]) -> dict[str, Any]:
    """Rule ``search``: the pairs document of ``event`` (a parsed record, or the path of a record JSON)."""
    return search_event(event if isinstance(event, dict) else load_event(event), cfg, Path(out_json))


def run_download(kind: str, record: dict[str, Any], out_path: str | Path, cfg: dict[str, Any]) -> Path:
    """Rules ``download``/``download_burst`` (``kind`` ``slc``) and ``orbits`` (``kind`` ``orbits``)."""
    out = Path(out_path)
    if kind == "orbits":
        fetch_orbits_for_record(record, out.parent, out)
        return out
    if kind != "slc":
        raise ValueError(f"run_download: kind must be 'slc' or 'orbits', got {kind!r}")
    return download_record(record, out, cfg)
