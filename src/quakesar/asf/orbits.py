"""Precise orbit files (POEORB) for downloaded granules, fetched with ``sentineleof``.

SNAP's Apply-Orbit-File downloads orbits itself (``interferogram.snap.orbit_type``); with
``download.orbits: true`` they are fetched ahead (e.g. for compute nodes without internet) with
``eof.download.download_eofs`` (https://github.com/scottstanie/sentineleof), which asks the
Copernicus Data Space and falls back to ASF. A POEORB file covers the acquisition time of its
mission's pass; the request is (acquisition start, mission) from the pairs file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quakesar import atomic
from quakesar.asf.download import granule_record
from quakesar.asf.products import parse_time

log = logging.getLogger(__name__)


def mission_of(record: dict[str, Any]) -> str:
    """``S1A``/``S1B``/``S1C``/``S1D`` from a scene record's platform or its name."""
    platform = str(record.get("platform", "")).upper().replace("SENTINEL-", "S")
    if platform in ("S1A", "S1B", "S1C", "S1D"):
        return platform
    name = str(record.get("scene", ""))
    if name[:3] in ("S1A", "S1B", "S1C", "S1D"):
        return name[:3]
    raise ValueError(f"granule {name!r}: cannot tell the Sentinel-1 unit (platform {record.get('platform')!r})")


def orbit_request(record: dict[str, Any]) -> tuple[dt.datetime, str]:
    """(acquisition start time, mission) for one scene record of a pairs file."""
    return parse_time(str(record["start"])), mission_of(record)


def fetch_orbits(pairs_json: str | os.PathLike[str], granule: str, save_dir: str | os.PathLike[str],
                 manifest: str | os.PathLike[str], download_fn: Callable[..., list[Path]] | None = None) -> list[Path]:
    """Download the precise orbit file of ``granule`` into ``save_dir``; write a JSON manifest of the files.

    ``download_fn`` defaults to ``eof.download.download_eofs`` (tests pass a stand-in).
    """
    return fetch_orbits_for_record(granule_record(pairs_json, granule), save_dir, manifest, download_fn)


def fetch_orbits_for_record(rec: dict[str, Any], save_dir: str | os.PathLike[str], manifest: str | os.PathLike[str],
                            download_fn: Callable[..., list[Path]] | None = None) -> list[Path]:
    """:func:`fetch_orbits` for a scene record (``scene``, ``start``, ``platform``) of a pairs file."""
    if download_fn is None:
        from quakesar.asf.versions import check_version

        check_version("sentineleof")  # older versions cannot fetch S1C orbits
        from eof.download import download_eofs as download_fn  # type: ignore[no-redef]
    granule = rec.get("scene", "<unnamed>")
    when, mission = orbit_request(rec)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    files = [Path(p) for p in download_fn(orbit_dts=[when], missions=[mission], save_dir=str(save_dir), orbit_type="precise")]
    if not files:
        raise RuntimeError(f"no precise orbit file found for {granule} ({mission}, {when.isoformat()})")
    atomic.write_json(manifest, {"granule": granule, "mission": mission, "start": rec["start"],
                                 "orbit_type": "precise", "files": sorted(str(f) for f in files)})
    log.info("%s: orbit files %s", granule, [f.name for f in files])
    return files


def load_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an orbit manifest written by :func:`fetch_orbits`."""
    return json.loads(Path(path).read_text())
