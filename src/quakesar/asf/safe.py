"""Sentinel-1 IW SLC SAFE annotations: bursts, burst ids and burst footprints, read from a zip or a folder.

A SAFE product holds one annotation XML per subswath and polarisation
(``<SAFE>/annotation/s1a-iw2-slc-vv-....xml``; Sentinel-1 Product Specification, ESA
S1-RS-MDA-52-7441, section 6). From it we read:

* ``swathTiming``: ``linesPerBurst`` and the ``burstList`` (per burst ``azimuthTime``,
  ``azimuthAnxTime`` = seconds since the ascending node, and since IPF 3.40 (2021) ``burstId``);
* ``geolocationGrid``: points (line, pixel, latitude, longitude) on a coarse grid whose rows fall
  on the burst boundaries, so that burst ``k`` spans rows ``k`` and ``k + 1``.

Relative burst ids follow ESA's burst id definition (the Sentinel-1 burst ID map, ESA 2022, used
by IPF >= 3.40 annotations and by ASF's burst catalogue): with the nominal orbit period
``T_orb = 12 d / 175``, the burst cycle ``T_beam = 2.758273 s`` and the preamble
``T_pre = 2.299849 s``, a burst seen ``t_anx`` seconds after the ascending node of relative orbit
``track`` sits at ``dt = t_anx + (track - 1) T_orb`` on the 175-orbit repeat cycle, and its id is
``1 + floor((dt - T_pre) / T_beam + phase_IWn)``. The burst starts of IW1, IW2 and IW3 fall about
0.58, 0.92 and 0.27 of a cycle into ``(dt - T_pre) / T_beam`` (the three subswaths of one cycle
share an id, IW3's start being the next cycle's); ``phase_IWn`` moves each to mid-cycle so that
floor() is far from a boundary. Checked against the ``burstId`` of IPF >= 3.40 annotations and
ASF's burst catalogue (tests/test_asf_safe.py: all fractional parts within 0.50 +- 0.04).
The relative orbit comes from ``manifest.safe`` (``relativeOrbitNumber``), or, for a lone
annotation, from the absolute orbit: S1A ``(abs - 73) mod 175 + 1``, S1B ``(abs - 27) mod 175 + 1``
(ESA orbit numbering; other units need the manifest).

Zips are read in place (``zipfile``), never unpacked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from shapely.geometry import Polygon

from quakesar.asf.coverage import distance_m
from quakesar.asf.products import parse_time

T_ORBIT_S = 12 * 86400.0 / 175.0
T_BEAM_S = 2.758273
T_PRE_S = 2.299849
# fraction of a burst cycle added so that floor() falls mid-cycle for each subswath's burst start
_SWATH_PHASE = {"IW1": 0.92, "IW2": 0.58, "IW3": 0.23}
# absolute orbit of the first pass over relative orbit 1 minus 1, per mission (ESA orbit numbering)
_ORBIT_OFFSET = {"S1A": 73, "S1B": 27}


@dataclasses.dataclass
class Burst:
    """One burst of one subswath."""

    subswath: str
    index: int  # 0-based position in the subswath
    burst_id: int  # relative (ESA) burst id
    burst_id_source: str  # "annotation" | "computed"
    azimuth_time: dt.datetime
    azimuth_anx_time_s: float
    footprint: Polygon

    @property
    def full_burst_id(self) -> str:
        """ASF's ``<track>_<burst id>_<subswath>`` form is built by the caller (needs the track)."""
        return f"{self.burst_id}_{self.subswath}"


@dataclasses.dataclass
class SwathAnnotation:
    """What one annotation XML says about its subswath."""

    path: str
    mission: str
    subswath: str
    polarisation: str
    flight_direction: str
    absolute_orbit: int
    track: int
    lines_per_burst: int
    bursts: list[Burst]


def relative_orbit(mission: str, absolute_orbit: int) -> int:
    """Relative orbit (track) of a Sentinel-1 absolute orbit number."""
    key = mission.upper()[:3]
    if key not in _ORBIT_OFFSET:
        raise ValueError(f"relative_orbit: unknown Sentinel-1 mission {mission!r} (expected S1A or S1B)")
    return (int(absolute_orbit) - _ORBIT_OFFSET[key]) % 175 + 1


def burst_id_from_anx(azimuth_anx_time_s: float, track: int, subswath: str) -> int:
    """ESA relative burst id of a burst starting ``azimuth_anx_time_s`` after the ascending node."""
    if subswath not in _SWATH_PHASE:
        raise ValueError(f"burst_id_from_anx: subswath must be IW1, IW2 or IW3, got {subswath!r}")
    dt_b = azimuth_anx_time_s + (int(track) - 1) * T_ORBIT_S
    return 1 + int(math.floor((dt_b - T_PRE_S) / T_BEAM_S + _SWATH_PHASE[subswath]))


class SafeReader:
    """Read members of a SAFE product stored as a ``.zip`` or as a ``.SAFE`` folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"SAFE product not found: {self.path}")
        self._zip = zipfile.ZipFile(self.path) if self.path.is_file() else None

    def names(self) -> list[str]:
        if self._zip is not None:
            return self._zip.namelist()
        return [str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()]

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        return (self.path / name).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "SafeReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def annotation_names(reader: SafeReader, polarisation: str = "VV") -> list[str]:
    """The subswath annotation XMLs of one polarisation (not calibration/noise/rfi), sorted by subswath."""
    pat = f"s1?-iw?-slc-{polarisation.lower()}-*.xml"
    out = []
    for name in reader.names():
        parts = name.replace("\\", "/").split("/")
        if len(parts) >= 2 and parts[-2] == "annotation" and fnmatch.fnmatch(parts[-1].lower(), pat):
            out.append(name)
    return sorted(out, key=lambda n: n.replace("\\", "/").split("/")[-1].split("-")[1])


def _text(root: ET.Element, path: str, source: str) -> str:
    node = root.find(path)
    if node is None or node.text is None:
        raise ValueError(f"{source}: annotation element '{path}' is missing")
    return node.text.strip()


def manifest_relative_orbit(reader: SafeReader) -> int | None:
    """``relativeOrbitNumber`` (start) from the SAFE's ``manifest.safe``, or None when absent."""
    names = [n for n in reader.names() if n.replace("\\", "/").split("/")[-1] == "manifest.safe"]
    if not names:
        return None
    m = re.search(rb"<safe:relativeOrbitNumber[^>]*>\s*(\d+)\s*<", reader.read(names[0]))
    return int(m.group(1)) if m else None


def parse_annotation(xml: bytes, source: str = "<annotation>", track: int | None = None) -> SwathAnnotation:
    """Parse one subswath annotation XML (Sentinel-1 Product Specification, ``product`` schema).

    ``track``: the relative orbit when known (from the manifest); otherwise derived from the
    absolute orbit for S1A/S1B.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"{source}: not a valid annotation XML ({exc})") from exc
    mission = _text(root, "adsHeader/missionId", source)
    swath = _text(root, "adsHeader/swath", source).upper()
    pol = _text(root, "adsHeader/polarisation", source).upper()
    abs_orbit = int(_text(root, "adsHeader/absoluteOrbitNumber", source))
    direction = _text(root, "generalAnnotation/productInformation/pass", source).lower()
    if track is None:
        track = relative_orbit(mission, abs_orbit)
    lpb = int(_text(root, "swathTiming/linesPerBurst", source))

    grid: dict[int, list[tuple[int, float, float]]] = {}
    for pt in root.iterfind("geolocationGrid/geolocationGridPointList/geolocationGridPoint"):
        line = int(_text(pt, "line", source))
        grid.setdefault(line, []).append((int(_text(pt, "pixel", source)), float(_text(pt, "longitude", source)), float(_text(pt, "latitude", source))))
    rows = sorted(grid)
    burst_nodes = list(root.iterfind("swathTiming/burstList/burst"))
    if burst_nodes and len(rows) < 2:
        raise ValueError(f"{source}: geolocation grid has fewer than two lines")

    bursts = []
    for k, b in enumerate(burst_nodes):
        anx = float(_text(b, "azimuthAnxTime", source))
        node = b.find("burstId")
        if node is not None and node.text and node.text.strip():
            bid, src = int(node.text.strip()), "annotation"
        else:
            bid, src = burst_id_from_anx(anx, track, swath), "computed"
        top, bottom = _grid_rows_for_burst(rows, k * lpb, (k + 1) * lpb, source)
        ring = [(x, y) for _, x, y in sorted(grid[top])] + [(x, y) for _, x, y in sorted(grid[bottom], reverse=True)]
        bursts.append(Burst(swath, k, bid, src, parse_time(_text(b, "azimuthTime", source)), anx, Polygon(ring)))
    return SwathAnnotation(source, mission, swath, pol, direction, abs_orbit, track, lpb, bursts)


def _grid_rows_for_burst(rows: list[int], first: int, end: int, source: str) -> tuple[int, int]:
    """The geolocation grid rows bounding lines [first, end): the row at/before ``first`` and the first at/after ``end - 1``."""
    top = max((r for r in rows if r <= first), default=rows[0])
    bottom = min((r for r in rows if r >= end - 1), default=rows[-1])
    if bottom <= top:
        raise ValueError(f"{source}: geolocation grid does not cover burst lines {first}..{end - 1}")
    return top, bottom


def read_safe(path: str | Path, polarisation: str = "VV") -> list[SwathAnnotation]:
    """All subswath annotations of ``polarisation`` in a SAFE zip or folder (IW1..IW3 order)."""
    with SafeReader(path) as reader:
        names = annotation_names(reader, polarisation)
        if not names:
            raise ValueError(f"{path}: no {polarisation} subswath annotation found under */annotation/")
        track = manifest_relative_orbit(reader)
        return [parse_annotation(reader.read(n), f"{path}!{n}", track) for n in names]


def coverage(annotations: list[SwathAnnotation], lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    """Subswaths and bursts within ``radius_km`` of the epicentre, and the one containing it.

    Returns ``{"subswaths": [...], "bursts": {IWn: [burst ids]}, "full_burst_ids": [...],
    "containing": {"subswath", "burst_id", "index"} or None, "distances_km": {"IWn:id": km}}``.
    """
    out: dict[str, Any] = {"subswaths": [], "bursts": {}, "full_burst_ids": [], "containing": None, "distances_km": {}}
    for ann in annotations:
        for b in ann.bursts:
            d_km = distance_m(lat, lon, b.footprint) / 1000.0
            if d_km == 0.0 and out["containing"] is None:
                out["containing"] = {"subswath": ann.subswath, "burst_id": b.burst_id, "index": b.index}
            if d_km <= radius_km:
                out["bursts"].setdefault(ann.subswath, []).append(b.burst_id)
                out["full_burst_ids"].append(f"{ann.track:03d}_{b.burst_id}_{ann.subswath}")
                out["distances_km"][f"{ann.subswath}:{b.burst_id}"] = round(d_km, 3)
    out["subswaths"] = sorted(out["bursts"])
    return out


def safe_name_time(name: str) -> dt.datetime:
    """Sensing start encoded in a SAFE/granule name (``..._20200511T135117_...``)."""
    m = re.search(r"_(\d{8}T\d{6})_", name)
    if not m:
        raise ValueError(f"no sensing time (YYYYMMDDThhmmss) in product name {name!r}")
    return dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
