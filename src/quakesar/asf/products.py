"""Sentinel-1 acquisitions as returned by ASF's search API, reduced to what pair selection needs.

ASF's search (``asf_search``, CMR UMM-G records) describes each product with ``properties``
(sceneName, startTime/stopTime, pathNumber = relative orbit, flightDirection, frameNumber,
polarization, url, bytes, md5sum, and for burst products a ``burst`` block with ``fullBurstID``
``<track>_<relative burst id>_<IWn>``) and a ``geometry`` (GeoJSON footprint, lon/lat). See
https://docs.asf.alaska.edu/asf_search/ASFProduct/ and the burst product description
https://asf.alaska.edu/datasets/data-sets/derived-data-sets/sentinel-1-bursts/.

:class:`Scene` is a plain, JSON-serialisable view of one such product; it keeps a reference to the
original ``asf_search`` product so that ASF's own perpendicular-baseline calculation
(``asf_search.baseline.calc``) can run on its state vectors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


def parse_time(text: str) -> dt.datetime:
    """Parse an ISO 8601 time (``Z``, offset or naive = UTC) into an aware UTC datetime."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"expected an ISO 8601 time string, got {text!r}")
    t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix (microseconds kept only when non-zero)."""
    return t.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass
class Scene:
    """One Sentinel-1 IW SLC frame or burst product found by the search."""

    name: str
    start: dt.datetime
    stop: dt.datetime
    track: int
    flight_direction: str  # "ascending" | "descending"
    frame: int | None
    polarisation: str  # as ASF writes it: "VV", "VV+VH", "HH+HV", ...
    platform: str
    processing_level: str  # "SLC" | "BURST"
    beam_mode: str
    url: str
    bytes: int | None
    md5: str | None
    footprint: BaseGeometry
    file_name: str
    full_burst_id: str | None = None
    subswath: str | None = None
    absolute_orbit: int | None = None
    metadata_url: str | None = None
    source_scene: str | None = None  # burst products: the SLC the burst is cut from
    product: Any = dataclasses.field(default=None, repr=False, compare=False)
    members: list["Scene"] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def polarisations(self) -> set[str]:
        """The individual polarisation channels of the product (``"VV+VH"`` -> ``{"VV", "VH"}``)."""
        return {p.strip().upper() for p in self.polarisation.replace("/", "+").split("+") if p.strip()}

    @property
    def is_burst(self) -> bool:
        """True for an ASF SLC-BURST product."""
        return self.processing_level.upper() == "BURST"

    def record(self) -> dict[str, Any]:
        """The scene as written into ``results/pairs/{event}.json`` (docs/architecture.md, "Pairs")."""
        rec: dict[str, Any] = {
            "scene": self.name,
            "start": iso(self.start),
            "stop": iso(self.stop),
            "track": self.track,
            "flight_direction": self.flight_direction,
            "frame": self.frame,
            "polarisation": self.polarisation,
            "platform": self.platform,
            "processing_level": self.processing_level,
            "url": self.url,
            "file_name": self.file_name,
            "bytes": self.bytes,
            "md5": self.md5,
            "footprint_wkt": self.footprint.wkt,
        }
        if self.full_burst_id:
            rec["full_burst_id"] = self.full_burst_id
            rec["subswath"] = self.subswath
            rec["metadata_url"] = self.metadata_url  # the burst's annotation XML
            if self.source_scene:
                rec["source_scene"] = self.source_scene
        if self.members:
            rec["bursts"] = [m.record() for m in self.members]
        return rec


def _none(value: Any) -> Any:
    """ASF records sometimes carry the string ``"None"`` (or ``""``) for a missing value."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "null")):
        return None
    return value


def _int_or_none(value: Any, field: str, name: str) -> int | None:
    value = _none(value)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ASF product {name}: field '{field}' should be an integer, got {value!r}") from exc


def burst_source_scene(properties: dict[str, Any], umm: dict[str, Any] | None = None) -> str | None:
    """The SLC a burst product is extracted from, or None when the record does not say.

    ASF's burst extractor URL is ``https://sentinel1-burst.asf.alaska.edu/<SLC>/<IWn>/<POL>/<i>.tiff``
    (the recorded responses in tests/fixtures/asf/search); the UMM record lists the same SLC under
    ``InputGranules`` as ``<SLC>-SLC``. The URL is read first, the UMM field second.
    """
    from urllib.parse import urlparse

    url = str(_none(properties.get("url")) or "")
    parts = [x for x in urlparse(url).path.split("/") if x]
    if (urlparse(url).hostname or "").startswith("sentinel1-burst.") and len(parts) >= 4 and "_SLC_" in parts[0]:
        return parts[0]
    for name in (umm or {}).get("InputGranules") or []:
        name = str(name)
        if "_SLC_" in name:
            return name.removesuffix("-SLC")
    return None


def scene_from_properties(properties: dict[str, Any], geometry: dict[str, Any], product: Any = None,
                          umm: dict[str, Any] | None = None) -> Scene:
    """Build a :class:`Scene` from an ASF product's ``properties`` and GeoJSON ``geometry``.

    Raises ValueError naming the product and the field when a required field is missing.
    """
    name = str(properties.get("sceneName") or properties.get("fileID") or "<unnamed product>")
    for key in ("startTime", "stopTime", "pathNumber", "flightDirection", "url"):
        if _none(properties.get(key)) is None:
            raise ValueError(f"ASF product {name}: required field '{key}' is missing")
    if not geometry or _none(geometry.get("coordinates")) is None:
        raise ValueError(f"ASF product {name}: footprint geometry is missing")
    burst = properties.get("burst") or {}
    url = str(properties["url"])
    file_name = str(_none(properties.get("fileName")) or url.rsplit("/", 1)[-1])
    footprint = shape(geometry)
    if not footprint.is_valid:
        footprint = footprint.buffer(0)
    return Scene(
        name=name,
        start=parse_time(str(properties["startTime"])),
        stop=parse_time(str(properties["stopTime"])),
        track=_int_or_none(properties["pathNumber"], "pathNumber", name) or 0,
        flight_direction=str(properties["flightDirection"]).strip().lower(),
        frame=_int_or_none(properties.get("frameNumber"), "frameNumber", name),
        polarisation=str(_none(properties.get("polarization")) or ""),
        platform=str(_none(properties.get("platform")) or ""),
        processing_level=str(_none(properties.get("processingLevel")) or ""),
        beam_mode=str(_none(properties.get("beamModeType")) or ""),
        url=url,
        bytes=_int_or_none(properties.get("bytes"), "bytes", name),
        md5=_none(properties.get("md5sum")),
        footprint=footprint,
        file_name=file_name,
        full_burst_id=_none(burst.get("fullBurstID")),
        subswath=_none(burst.get("subswath")),
        absolute_orbit=_int_or_none(properties.get("orbit"), "orbit", name),
        metadata_url=(_none((properties.get("additionalUrls") or [None])[0]) if burst else None),
        source_scene=burst_source_scene(properties, umm) if burst else None,
        product=product,
    )


def scene_from_product(product: Any) -> Scene:
    """Build a :class:`Scene` from an ``asf_search.ASFProduct`` (keeps the product for baselines)."""
    umm = getattr(product, "umm", None)
    return scene_from_properties(dict(product.properties), dict(product.geometry), product=product,
                                 umm=umm if isinstance(umm, dict) else None)


def acquisition_from_bursts(bursts: list[Scene]) -> Scene:
    """One acquisition (a pass over the area) assembled from the burst products of one absolute orbit.

    Its footprint is the union of the bursts', its time span covers all of them, its size is their
    sum; the bursts themselves are kept in ``members`` (each is a download of its own).
    """
    if not bursts:
        raise ValueError("acquisition_from_bursts: no bursts given")
    from shapely.ops import unary_union

    first = min(bursts, key=lambda b: b.start)
    orbits = {b.absolute_orbit for b in bursts}
    tracks = {(b.track, b.flight_direction) for b in bursts}
    if len(orbits) != 1 or len(tracks) != 1:
        raise ValueError(f"bursts of different passes cannot form one acquisition: orbits {orbits}, tracks {tracks}")
    sizes = [b.bytes for b in bursts]
    return Scene(
        name=f"S1_BURSTS_{first.track:03d}_{first.start:%Y%m%dT%H%M%S}_{first.absolute_orbit}",
        start=first.start,
        stop=max(b.stop for b in bursts),
        track=first.track,
        flight_direction=first.flight_direction,
        frame=None,
        polarisation=first.polarisation,
        platform=first.platform,
        processing_level="BURST",
        beam_mode=first.beam_mode,
        url="",
        bytes=None if None in sizes else int(sum(sizes)),  # type: ignore[arg-type]
        md5=None,
        footprint=unary_union([b.footprint for b in bursts]),
        file_name="",
        absolute_orbit=first.absolute_orbit,
        product=first.product,
        members=sorted(bursts, key=lambda b: (b.subswath or "", b.full_burst_id or "")),
    )
