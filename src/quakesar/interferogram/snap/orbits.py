"""Put pre-fetched Sentinel-1 orbit files where SNAP's Apply-Orbit-File looks for them.

``download.orbits: true`` fetches each granule's precise orbit (POEORB) file ahead of SNAP
(:mod:`quakesar.asf.orbits`, into ``<download.dir>/orbits/``) so that a compute node without
internet can run the chain. SNAP, however, only searches its own orbit folder: in SNAP's source
(s1tbx ``SentinelPODOrbitFile.getDestFolder`` / ``findOrbitFile``, the same in microwave-toolbox)
the folder is::

    <OrbitFiles.sentinel1POEOrbitPath>/<mission>/<yyyy>/<MM>/          (precise)
    <OrbitFiles.sentinel1RESOrbitPath>/<mission>/<yyyy>/<MM>/          (restituted)

with the defaults ``<auxdata>/Orbits/Sentinel-1/POEORB`` and ``.../RESORB``, ``<auxdata>`` being
SNAP's auxiliary-data directory (``~/.snap/auxdata`` unless SNAP is configured otherwise),
``<mission>`` ``S1A``/``S1B``/``S1C``/``S1D``, the year and the two-digit month of the product's
first orbit state vector (``STATE_VECTOR_TIME``), and file names starting with
``<mission>_OPER_AUX_POEORB_OPOD_`` (``..._RESORB_...``) ending in ``.EOF`` or ``.zip``. A file
anywhere else is never seen and an offline node fails in Apply-Orbit-File ("No valid orbit file
found"). :func:`install_orbits` copies the files there before ``gpt`` runs.

The state-vector time precedes the acquisition start by up to a few minutes (the annotation's
orbit list starts before the first line), so a scene acquired in the first minutes of a month
has its state-vector time in the previous month: the file is placed in the folder of every month
within :data:`MONTH_MARGIN` of the acquisition start.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from quakesar.asf.products import parse_time
from quakesar.atomic import atomic_path

log = logging.getLogger(__name__)

MISSIONS = ("S1A", "S1B", "S1C", "S1D")
MONTH_MARGIN = dt.timedelta(minutes=10)


def default_auxdata_dir() -> Path:
    """SNAP's default auxiliary-data directory, ``~/.snap/auxdata``."""
    return Path.home() / ".snap" / "auxdata"


def orbit_kind(orbit_type: str) -> str:
    """``POEORB`` for SNAP's precise orbit types, ``RESORB`` for the restituted ones."""
    return "RESORB" if str(orbit_type).startswith("Sentinel Restituted") else "POEORB"


def snap_orbit_dir(auxdata_dir: str | Path, mission: str, when: dt.datetime, kind: str = "POEORB") -> Path:
    """The folder SNAP searches for ``mission``'s orbit files of the month of ``when``."""
    if mission not in MISSIONS:
        raise ValueError(f"orbit mission {mission!r}: expected one of {MISSIONS}")
    if kind not in ("POEORB", "RESORB"):
        raise ValueError(f"orbit kind {kind!r}: expected POEORB or RESORB")
    return Path(auxdata_dir) / "Orbits" / "Sentinel-1" / kind / mission / f"{when.year:04d}" / f"{when.month:02d}"


def _months(start: dt.datetime) -> list[dt.datetime]:
    out: list[dt.datetime] = []
    for t in (start - MONTH_MARGIN, start, start + MONTH_MARGIN):
        if not any((t.year, t.month) == (o.year, o.month) for o in out):
            out.append(t)
    return out


def _check_name(path: Path, mission: str, kind: str) -> None:
    prefix = f"{mission}_OPER_AUX_{kind}_OPOD_"
    name = path.name.upper()
    if not name.startswith(prefix) or not name.endswith((".EOF", ".ZIP")):
        raise ValueError(f"{path}: SNAP only reads orbit files named {prefix}*.EOF (or .zip) for {mission}")


def _copy(src: Path, dst: Path) -> bool:
    """Copy ``src`` onto ``dst`` atomically; False when an identical file is already there."""
    if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return True


def install_orbits(manifests: list[str | Path], auxdata_dir: str | Path | None = None) -> list[Path]:
    """Copy the orbit files listed in orbit manifests (:func:`quakesar.asf.orbits.fetch_orbits`)
    into SNAP's orbit folders; returns the installed paths (existing identical copies included).

    ``auxdata_dir``: SNAP's auxiliary-data directory (``interferogram.snap.auxdata_dir``; None =
    :func:`default_auxdata_dir`). A manifest naming a missing file, an unknown mission or a file
    SNAP would not recognise raises ValueError naming it.
    """
    aux = Path(auxdata_dir).expanduser() if auxdata_dir else default_auxdata_dir()
    installed: list[Path] = []
    for manifest in manifests:
        manifest = Path(manifest)
        try:
            doc: dict[str, Any] = json.loads(manifest.read_text())
            mission, start = str(doc["mission"]), parse_time(str(doc["start"]))
            files = [Path(f) for f in doc["files"]]
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{manifest}: not an orbit manifest (mission, start, files): {exc}") from None
        kind = "RESORB" if str(doc.get("orbit_type", "precise")).lower().startswith("rest") else "POEORB"
        for f in files:
            if not f.is_absolute() and not f.is_file():
                f = manifest.parent / f.name
            if not f.is_file():
                raise ValueError(f"{manifest}: orbit file {f} does not exist")
            _check_name(f, mission, kind)
            for month in _months(start):
                dst = snap_orbit_dir(aux, mission, month, kind) / f.name
                if _copy(f, dst):
                    log.info("orbit %s -> %s", f.name, dst.parent)
                installed.append(dst)
    return installed
