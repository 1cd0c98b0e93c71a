"""Parsers for the metadata text files of processed interferogram products (no rasters here).

Formats (facts from each product's public documentation and real files, tests/fixtures/external):

* **ASF HyP3** parameter file ``<product>.txt`` (INSAR_GAMMA and INSAR_ISCE_BURST): one
  ``Key: value`` per line (``Reference Granule``, ``Secondary Granule``, ``Reference Pass Direction``,
  ``Reference Orbit Number``, ``Baseline``, ``Heading``, ``Slant range near/center/far``,
  ``Range looks``, ``Azimuth looks``, ``Phase filter parameter``, ``DEM source``, ...), and the
  product README (``<product>.README.md.txt`` for GAMMA, ``<product>_README.md.txt`` for ISCE2),
  whose first line names the processor and whose text states the projection and pixel spacing.
* **COMET LiCSAR** frame ``metadata.txt``: ``key=value`` lines (``master``, ``center_time``,
  ``heading``, ``avg_incidence_angle``, ``azimuth_resolution``, ``range_resolution``,
  ``centre_range_m``, ``avg_height``, ``applied_DEM``), as LiCSAR's frame metadata script writes it;
  frame ids ``<track><A|D>_<ddddd>_<dddddd>`` (e.g. ``149A_11032_131313``).
* **ROI_PAC** ``.rsc`` headers: ``KEY value`` lines (``WIDTH``, ``FILE_LENGTH``, ``X_FIRST``,
  ``Y_FIRST``, ``X_STEP``, ``Y_STEP``, ``X_UNIT``, ``WAVELENGTH``, ...).
* **GAMMA** parameter files (``.par``, e.g. ``dem_par`` of a geocoded product or an SLC's
  ``.slc.par``): ``key: value [unit]`` lines (``width``, ``nlines``, ``corner_lat``,
  ``corner_lon``, ``post_lat``, ``post_lon``, ``data_format``; ``heading``, ``incidence_angle``,
  ``radar_frequency`` ...).

Sentinel-1 relative orbits from absolute ones: ``(abs - offset) mod 175 + 1`` with offsets 73
(S1A), 27 (S1B), 172 (S1C up to absolute orbit 8018) / 99 (S1C after its June 2026 orbit
reconfiguration), 42 (S1D), the formulas ESA's forum gives and sentineleof documents.
A burst's track follows from its ESA relative burst id (Sentinel-1 burst ID definition: bursts of
``T_burst = 2.758273 s`` counted from the ascending-node crossing of relative orbit 1, first burst
offset ``T_beam = 2.299849 s``, ``T_orb = 12 d / 175``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

REL_ORBIT_OFFSETS = {"S1A": 73, "S1B": 27, "S1D": 42}
S1C_RECONFIG_ORBIT = 8018
T_ORBIT_S = 12 * 86400 / 175
T_BURST_S = 2.758273
T_BEAM_S = 2.299849

_SLC_NAME = re.compile(r"^(?P<mission>S1[A-D])_IW_SLC__1S[SD][VH]_(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_"
                       r"(?P<orbit>\d{6})_")
_BURST_NAME = re.compile(r"^S1_(?P<burst>\d{6})_(?P<swath>IW[123])_(?P<time>\d{8}T\d{6})_(?P<pol>[VH]{2})_\w{4}-BURST$")
_LICSAR_FRAME = re.compile(r"^(?P<track>\d{3})(?P<dir>[AD])_\d{5}_\d{6}$")


class MetadataError(ValueError):
    """A metadata file lacks a field or has a malformed one; the message names the file and field."""


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.replace("\r", "").split("\n") if ln.strip() and not ln.lstrip().startswith("#")]


def parse_key_colon(text: str) -> dict[str, str]:
    """``Key: value`` lines (HyP3 parameter files, GAMMA ``.par``); the first colon splits."""
    out: dict[str, str] = {}
    for ln in _lines(text):
        if ":" in ln:
            key, value = ln.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def parse_key_equals(text: str) -> dict[str, str]:
    """``key=value`` lines (LiCSAR ``metadata.txt``)."""
    out: dict[str, str] = {}
    for ln in _lines(text):
        if "=" in ln:
            key, value = ln.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def parse_rsc(text: str) -> dict[str, str]:
    """ROI_PAC ``.rsc``: ``KEY value`` (whitespace separated) lines."""
    out: dict[str, str] = {}
    for ln in _lines(text):
        parts = ln.split(None, 1)
        if len(parts) == 2:
            out[parts[0].strip()] = parts[1].strip()
    return out


def parse_gamma_par(text: str) -> dict[str, str]:
    """GAMMA ``.par``: ``key: value [unit ...]``; the value keeps only its first token (unit dropped)
    unless the value is a title/text field."""
    raw = parse_key_colon(text)
    out: dict[str, str] = {}
    for key, value in raw.items():
        tokens = value.split()
        out[key] = value if key in ("title", "sensor", "date", "projection_name", "data_format", "DEM_projection") \
            else (tokens[0] if tokens else "")
    return out


def number(meta: dict[str, str], key: str, source: str | Path) -> float:
    """``meta[key]`` as a float, or :class:`MetadataError` naming the file and the key."""
    if key not in meta or meta[key] in ("", "None", "none"):
        raise MetadataError(f"{source}: field {key!r} missing (have: {', '.join(sorted(meta)) or 'nothing'})")
    try:
        return float(meta[key])
    except ValueError:
        raise MetadataError(f"{source}: field {key!r} = {meta[key]!r} is not a number") from None


def relative_orbit(mission: str, absolute_orbit: int) -> int:
    """Sentinel-1 relative orbit (track, 1..175) of an absolute orbit number (module docstring)."""
    if mission == "S1C":
        offset = 172 if absolute_orbit <= S1C_RECONFIG_ORBIT else 99
    elif mission in REL_ORBIT_OFFSETS:
        offset = REL_ORBIT_OFFSETS[mission]
    else:
        raise MetadataError(f"unknown Sentinel-1 unit {mission!r}: expected S1A, S1B, S1C or S1D")
    return (int(absolute_orbit) - offset) % 175 + 1


def track_from_burst_id(burst_id: int) -> int:
    """The relative orbit of an ESA relative burst id (exact except within one burst of a track start)."""
    t = (int(burst_id) - 1) * T_BURST_S + T_BEAM_S + 0.5 * T_BURST_S
    return int(t // T_ORBIT_S) % 175 + 1


def _utc(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{t.microsecond:06d}Z" if t.microsecond else "Z")


@dataclass(frozen=True)
class Granule:
    """What a Sentinel-1 SLC or burst granule name says."""

    name: str
    start: dt.datetime
    mission: str | None
    absolute_orbit: int | None
    subswath: str | None = None
    burst_id: int | None = None

    @property
    def track(self) -> int | None:
        if self.burst_id is not None:
            return track_from_burst_id(self.burst_id)
        if self.mission and self.absolute_orbit is not None:
            return relative_orbit(self.mission, self.absolute_orbit)
        return None


def parse_granule(name: str) -> Granule:
    """Parse an IW SLC name (``S1A_IW_SLC__1SDV_<start>_<stop>_<orbit>_...``) or an ASF burst name
    (``S1_<burst>_<IWn>_<time>_<pol>_<id>-BURST``)."""
    name = name.strip()
    m = _SLC_NAME.match(name)
    if m:
        return Granule(name, _utc(m["start"]), m["mission"], int(m["orbit"]))
    m = _BURST_NAME.match(name)
    if m:
        return Granule(name, _utc(m["time"]), None, None, m["swath"], int(m["burst"]))
    raise MetadataError(f"granule {name!r}: neither a Sentinel-1 IW SLC nor an ASF burst name")


@dataclass
class Hyp3Metadata:
    """The parameter file (and README) of an ASF HyP3 INSAR_GAMMA or INSAR_ISCE_BURST product."""

    source: str
    job_type: str  # "INSAR_GAMMA" | "INSAR_ISCE_BURST"
    reference: list[Granule]
    secondary: list[Granule]
    flight_direction: str
    heading_deg: float
    range_looks: int | None
    azimuth_looks: int | None
    baseline_m: float | None
    fields: dict[str, str] = field(default_factory=dict)
    pixel_spacing_m: float | None = None
    processor: str | None = None

    @property
    def reference_time(self) -> dt.datetime:
        return min(g.start for g in self.reference)

    @property
    def secondary_time(self) -> dt.datetime:
        return min(g.start for g in self.secondary)

    @property
    def track(self) -> int | None:
        g = self.reference[0]
        if g.track is not None:
            return g.track
        orbit = self.fields.get("Reference Orbit Number")
        return None if g.mission is None or not orbit else relative_orbit(g.mission, int(orbit))

    @property
    def subswath(self) -> str | None:
        swaths = sorted({g.subswath for g in self.reference if g.subswath})
        return "+".join(swaths) if swaths else None


def _granules(value: str, key: str, source: str) -> list[Granule]:
    names = [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    if not names:
        raise MetadataError(f"{source}: field {key!r} is empty")
    try:
        return [parse_granule(n) for n in names]
    except MetadataError as exc:
        raise MetadataError(f"{source}: field {key!r}: {exc}") from None


def parse_hyp3(text: str, source: str = "<hyp3 .txt>", readme: str | None = None) -> Hyp3Metadata:
    """Parse a HyP3 InSAR parameter file (and optionally the product README)."""
    meta = parse_key_colon(text)
    for key in ("Reference Granule", "Secondary Granule", "Reference Pass Direction", "Heading"):
        if key not in meta:
            raise MetadataError(f"{source}: field {key!r} missing; is this an ASF HyP3 InSAR parameter file?")
    ref = _granules(meta["Reference Granule"], "Reference Granule", source)
    sec = _granules(meta["Secondary Granule"], "Secondary Granule", source)
    job = "INSAR_ISCE_BURST" if ref[0].burst_id is not None else "INSAR_GAMMA"
    direction = meta["Reference Pass Direction"].strip().lower()
    if direction not in ("ascending", "descending"):
        raise MetadataError(f"{source}: 'Reference Pass Direction' = {direction!r}, expected ASCENDING or DESCENDING")

    def opt_int(key: str) -> int | None:
        v = meta.get(key, "")
        return int(float(v)) if v.strip() else None

    out = Hyp3Metadata(source=source, job_type=job, reference=ref, secondary=sec, flight_direction=direction,
                       heading_deg=number(meta, "Heading", source), range_looks=opt_int("Range looks"),
                       azimuth_looks=opt_int("Azimuth looks"),
                       baseline_m=float(meta["Baseline"]) if meta.get("Baseline", "").strip() else None, fields=meta)
    if readme is not None:
        first = next((ln for ln in _lines(readme)), "")
        m = re.search(r"\((GAMMA|ISCE2?)\)", first)
        if m:
            out.processor = m.group(1)
        m = re.search(r"pixel spacing is (\d+(?:\.\d+)?) m", readme)
        if m:
            out.pixel_spacing_m = float(m.group(1))
    return out


@dataclass
class LicsarMetadata:
    """A LiCSAR frame's ``metadata.txt`` (any field may be absent in older frames)."""

    source: str
    fields: dict[str, str]

    def get(self, key: str) -> float | None:
        v = self.fields.get(key, "").strip()
        try:
            return float(v) if v else None
        except ValueError:
            raise MetadataError(f"{self.source}: field {key!r} = {v!r} is not a number") from None

    @property
    def center_time(self) -> dt.time | None:
        v = self.fields.get("center_time", "").strip()
        if not v:
            return None
        m = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?", v)
        if not m:
            raise MetadataError(f"{self.source}: center_time {v!r} is not HH:MM:SS[.ffffff]")
        micro = int((m.group(4) or "0")[:6].ljust(6, "0"))
        return dt.time(int(m.group(1)), int(m.group(2)), int(m.group(3)), micro)


def parse_licsar_metadata(text: str, source: str = "<metadata.txt>") -> LicsarMetadata:
    """Parse a LiCSAR frame ``metadata.txt``."""
    fields = parse_key_equals(text)
    if not fields:
        raise MetadataError(f"{source}: no key=value lines; not a LiCSAR metadata.txt")
    return LicsarMetadata(source, fields)


def parse_licsar_frame(frame: str) -> tuple[int, str]:
    """(track, flight direction) of a LiCSAR frame id such as ``149A_11032_131313``."""
    m = _LICSAR_FRAME.match(frame)
    if not m:
        raise MetadataError(f"LiCSAR frame id {frame!r}: expected <track><A|D>_<5 digits>_<6 digits>")
    return int(m["track"]), "ascending" if m["dir"] == "A" else "descending"


def licsar_pair_dates(name: str) -> tuple[dt.date, dt.date]:
    """The two dates of a LiCSAR pair name ``YYYYMMDD_YYYYMMDD`` (as in its file names)."""
    m = re.search(r"(\d{8})_(\d{8})", name)
    if not m:
        raise MetadataError(f"{name}: no YYYYMMDD_YYYYMMDD pair in the name")
    d1, d2 = (dt.datetime.strptime(x, "%Y%m%d").date() for x in m.groups())
    if d2 <= d1:
        raise MetadataError(f"{name}: secondary date {d2} is not after reference date {d1}")
    return d1, d2


def degrees_to_metres(lat_deg: float, dlon: float, dlat: float) -> tuple[float, float]:
    """Approximate east/north sizes (m) of a (dlon, dlat) degree step at ``lat_deg`` (WGS84 radii of curvature)."""
    a, e2 = 6378137.0, 6.69437999014e-3
    phi = math.radians(lat_deg)
    w = math.sqrt(1 - e2 * math.sin(phi) ** 2)
    n_radius = a / w
    m_radius = a * (1 - e2) / w**3
    return abs(math.radians(dlon)) * n_radius * math.cos(phi), abs(math.radians(dlat)) * m_radius
