"""Minimum versions of the real-data libraries, and which Sentinel-1 units they can see.

* ``asf_search >= 8.1.3``: earlier versions build their CMR dataset/platform tables without
  Sentinel-1C, so a search silently returns no S1C scenes (and a pair whose best partner is S1C
  is never found). The floor is also in ``pyproject.toml`` and ``envs/asf.yaml``
  (tests/test_asf_fixes.py keeps the three equal).
* ``sentineleof >= 0.11``: the first version whose product-name parser and orbit queries know
  S1C; older ones cannot fetch S1C orbits (``download.orbits``).

**Sentinel-1D** (launched November 2025; same C-band SAR, 12-day repeat, shares the reference
orbit with S1A/S1C) is treated like the other units: pairs may mix units on the same track,
orbits are fetched with sentineleof when it knows S1D, and SNAP's orbit folder is ``S1D``
(:mod:`quakesar.interferogram.snap.orbits`). Whether the installed libraries can see it is
checked at run time, not assumed from a version number: :func:`s1d_searchable` asks
asf_search's own dataset table, and the search stage logs a warning (and records it in the
pairs file) when S1D is not searchable. Processing S1D SLCs with SNAP needs a SNAP release
that reads S1D products; quakesar cannot check that without SNAP.
"""

from __future__ import annotations

import logging
import re
from importlib import metadata

log = logging.getLogger(__name__)

MIN_ASF_SEARCH = "8.1.3"
MIN_SENTINELEOF = "0.11"
FLOORS = {"asf-search": MIN_ASF_SEARCH, "sentineleof": MIN_SENTINELEOF}
WHY = {
    "asf-search": "earlier versions silently drop Sentinel-1C scenes from searches",
    "sentineleof": "earlier versions cannot fetch Sentinel-1C orbit files",
}


def version_key(text: str) -> tuple[int, ...]:
    """Numeric release components of a version string (``"8.1.3"`` -> ``(8, 1, 3)``, ``"0.13.1.dev2"`` ->
    ``(0, 13, 1)``): enough to compare against the floors, without the ``packaging`` dependency."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text))
    if not m:
        raise ValueError(f"cannot read a version number from {text!r}")
    parts = [int(x) for x in m.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


class VersionError(RuntimeError):
    """An installed real-data library is older than quakesar needs."""


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_version(distribution: str) -> str:
    """Raise :class:`VersionError` (with the pip/conda command) when ``distribution`` is older than its floor."""
    floor = FLOORS[distribution]
    have = installed_version(distribution)
    if have is None:
        raise VersionError(f"{distribution} is not installed; quakesar's ASF path needs {distribution}>={floor} "
                           f"(pip install '{distribution}>={floor}', or the conda environment envs/asf.yaml)")
    if version_key(have) < version_key(floor):
        raise VersionError(f"{distribution} {have} is installed but quakesar needs >= {floor}: {WHY[distribution]}. "
                           f"Upgrade with pip install -U '{distribution}>={floor}' (or recreate envs/asf.yaml)")
    return have


def s1d_searchable() -> bool:
    """True when the installed asf_search lists Sentinel-1D SLC collections in its CMR dataset table."""
    try:
        from asf_search.CMR import datasets
    except ImportError:
        return False
    names: set[str] = set()
    for value in vars(datasets).values():  # the module's tables: platform/dataset -> collection names
        if isinstance(value, dict):
            for key, items in value.items():
                names.add(str(key))
                if isinstance(items, (list, tuple, set, frozenset, dict)):
                    names.update(str(x) for x in items)
    return any(n.startswith("SENTINEL-1D_SLC") for n in names)
