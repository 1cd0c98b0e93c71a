"""Delete cached SLCs whose interferograms all exist (``download.cleanup``, CLI use).

Inside Snakemake the same policy is expressed with ``temp()`` outputs of the download rule, so
Snakemake removes an SLC once every job of the DAG that reads it has finished, and does not fetch
it again for up-to-date interferograms. This function serves runs outside Snakemake: an SLC
(``<dir>/<granule>.zip`` or ``.tiff``) is removed only when *every* pairs file that needs it has
all of its subswath interferograms (``<interferograms>/<event>/<IWn>.h5``); an SLC still needed by
another event stays.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def _needs(pairs_file: Path) -> tuple[str, list[str], list[str]]:
    doc = json.loads(pairs_file.read_text())
    if doc.get("status") != "ok" or not doc.get("pairs"):
        return pairs_file.stem, [], []
    pair = doc["pairs"][0]
    return doc.get("event_id", pairs_file.stem), list(pair.get("granules", [])), list(pair.get("subswaths", []))


def cleanup_slcs(pairs_dir: str | Path, interferogram_dir: str | Path, slc_dir: str | Path, dry_run: bool = False) -> list[Path]:
    """Remove SLCs no longer needed; returns the removed (or, with ``dry_run``, removable) files."""
    needed_by: dict[str, list[bool]] = {}
    for pf in sorted(Path(pairs_dir).glob("*.json")):
        try:
            event, granules, swaths = _needs(pf)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{pf}: not a pairs file ({exc})") from exc
        done = bool(swaths) and all((Path(interferogram_dir) / event / f"{iw}.h5").is_file() for iw in swaths)
        for g in granules:
            needed_by.setdefault(g, []).append(done)
    removed = []
    for g, states in sorted(needed_by.items()):
        if not all(states):
            continue
        for f in (Path(slc_dir) / f"{g}.zip", Path(slc_dir) / f"{g}.tiff"):
            if f.is_file():
                removed.append(f)
                if not dry_run:
                    f.unlink()
                    log.info("removed %s (all its interferograms exist)", f)
    return removed
