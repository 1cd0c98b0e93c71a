"""Readers for USGS ComCat catalogs: CSV, GeoJSON, and a live FDSN event query (cached to a file).

Every malformed value raises :class:`CatalogError` naming the file, the line (CSV; header = line 1)
or feature index (GeoJSON), the column, the value and what was expected. Rows repeating an id
with identical content are collapsed; an id repeated with conflicting values is an error naming
both lines.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode

import requests

from quakesar.atomic import write_bytes
from quakesar.catalog.magnitudes import to_mw
from quakesar.catalog.model import CatalogError, Event, parse_time

REQUIRED_CSV_COLUMNS = ("time", "latitude", "longitude", "depth", "mag", "magType", "id")
ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _number(value: Any, where: str, column: str, lo: float | None = None, hi: float | None = None) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise CatalogError(f"{where}, column '{column}': {value!r} is not a number") from None
    if not math.isfinite(x):
        raise CatalogError(f"{where}, column '{column}': {value!r} is not a finite number")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise CatalogError(f"{where}, column '{column}': {x} is out of range, expected {lo} to {hi}")
    return x


def _make_event(raw: dict[str, Any], where: str, source_file: str, line: int) -> Event:
    eid = str(raw["id"] or "").strip()
    if not eid or not set(eid) <= ID_CHARS:
        raise CatalogError(f"{where}, column 'id': {eid!r} is not a valid event id (letters, digits, '_' and '-' only)")
    try:
        time = raw["time"] if isinstance(raw["time"], datetime) else parse_time(str(raw["time"]))
    except ValueError:
        raise CatalogError(f"{where}, column 'time': {raw['time']!r} is not an ISO 8601 time "
                           "(expected e.g. 2021-03-03T10:16:08.000Z)") from None
    mag_type = str(raw.get("magType") or "").strip().lower()
    if not mag_type:
        raise CatalogError(f"{where}, column 'magType': empty, expected a magnitude type such as mww or mb")
    mag = _number(raw["mag"], where, "mag", -2.0, 10.0)
    return Event(
        id=eid, time=time,
        latitude=_number(raw["latitude"], where, "latitude", -90.0, 90.0),
        longitude=_number(raw["longitude"], where, "longitude", -180.0, 180.0),
        depth_km=_number(raw["depth"], where, "depth", -10.0, 800.0),
        magnitude=mag, magnitude_type=mag_type, mw=to_mw(mag, mag_type),
        place=str(raw.get("place") or ""), type=str(raw.get("type") or "earthquake").strip().lower(),
        updated=str(raw.get("updated") or ""), source_file=source_file, source_line=line,
    )


def _merge_duplicates(events: Iterable[Event], path: str) -> list[Event]:
    """Collapse repeated ids with the same content; raise on repeated ids with conflicting values."""
    seen: dict[str, Event] = {}
    for ev in events:
        old = seen.get(ev.id)
        if old is None:
            seen[ev.id] = ev
            continue
        same = (old.time == ev.time and old.latitude == ev.latitude and old.longitude == ev.longitude
                and old.depth_km == ev.depth_km and old.magnitude == ev.magnitude
                and old.magnitude_type == ev.magnitude_type)
        if not same:
            raise CatalogError(
                f"{path}: event id {ev.id!r} appears on line {old.source_line} and line {ev.source_line} with "
                f"conflicting values (time/location/depth/magnitude differ); expected one row per id")
    return list(seen.values())


def read_csv_text(text: str, path: str) -> list[Event]:
    """Parse ComCat CSV text (``path`` only names the source in messages and records)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))  # a BOM is not part of the first column name
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogError(f"{path}: empty file, expected a ComCat CSV header line") from None
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if missing:
        raise CatalogError(f"{path}, line 1: missing column(s) {', '.join(missing)}; a ComCat CSV needs "
                           f"{', '.join(REQUIRED_CSV_COLUMNS)} (got {', '.join(header)})")
    events = []
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CatalogError(f"{path}, line {line}: {len(row)} fields, expected {len(header)} as in the header")
        events.append(_make_event(dict(zip(header, row)), f"{path}, line {line}", path, line))
    return _merge_duplicates(events, path)


def read_geojson_text(text: str, path: str) -> list[Event]:
    """Parse a ComCat GeoJSON FeatureCollection (times in ms since the epoch, coordinates lon, lat, depth km)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise CatalogError(f"{path}: expected a GeoJSON FeatureCollection with a 'features' list")
    events = []
    for k, feat in enumerate(features):
        where = f"{path}, feature {k}"
        props = feat.get("properties") or {}
        coords = (feat.get("geometry") or {}).get("coordinates")
        if not isinstance(coords, list) or len(coords) < 3:
            raise CatalogError(f"{where}, column 'geometry.coordinates': expected [lon, lat, depth], got {coords!r}")
        t = props.get("time")
        try:
            time = datetime.fromtimestamp(float(t) / 1000.0, tz=timezone.utc)
        except (TypeError, ValueError):
            raise CatalogError(f"{where}, column 'properties.time': {t!r} is not milliseconds since 1970") from None
        upd = props.get("updated")
        raw = {"id": feat.get("id"), "time": time, "latitude": coords[1], "longitude": coords[0],
               "depth": coords[2], "mag": props.get("mag"), "magType": props.get("magType"),
               "place": props.get("place"), "type": props.get("type"), "updated": str(upd or "")}
        events.append(_make_event(raw, where, path, k))
    return _merge_duplicates(events, path)


def detect_format(path: Path) -> str:
    """``geojson`` for .json/.geojson files (or text starting with '{'), else ``csv``."""
    if path.suffix.lower() in (".json", ".geojson"):
        return "geojson"
    with open(path, "rb") as fh:
        head = fh.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte-order mark may come first
    return "geojson" if head.startswith(b"{") else "csv"


def fdsn_query_url(base_url: str, cfg: dict[str, Any]) -> str:
    """The FDSN event-service query (USGS flavour) for the catalog filters, CSV output, earthquakes only."""
    params: dict[str, Any] = {"format": "csv", "eventtype": "earthquake", "orderby": "time-asc"}
    if cfg.get("start"):
        params["starttime"] = cfg["start"]
    if cfg.get("end"):
        params["endtime"] = cfg["end"]
    if cfg.get("min_magnitude") is not None:
        params["minmagnitude"] = cfg["min_magnitude"]
    if cfg.get("max_magnitude") is not None:
        params["maxmagnitude"] = cfg["max_magnitude"]
    if cfg.get("max_depth_km") is not None:
        params["maxdepth"] = cfg["max_depth_km"]
    region = cfg.get("region")
    if isinstance(region, list):
        params.update(minlongitude=region[0], minlatitude=region[1], maxlongitude=region[2], maxlatitude=region[3])
    return base_url.rstrip("/") + "/query?" + urlencode(params)


def fetch_fdsn(base_url: str, cfg: dict[str, Any], cache: Path, timeout_s: float = 120.0) -> Path:
    """Run the FDSN query and store the CSV response atomically at ``cache``; returns the cache path."""
    url = fdsn_query_url(base_url, cfg)
    try:
        resp = requests.get(url, timeout=timeout_s)
    except requests.RequestException as exc:
        raise CatalogError(f"catalog.fdsn_url: the query {url} failed: {exc}") from None
    if resp.status_code == 204:  # FDSN: no events match
        body = ",".join(REQUIRED_CSV_COLUMNS) + "\n"
    elif resp.status_code != 200:
        raise CatalogError(f"catalog.fdsn_url: the query {url} answered HTTP {resp.status_code}: {resp.text[:200]}")
    else:
        body = resp.text
    read_csv_text(body, url)  # fail before caching a malformed answer
    write_bytes(cache, body.encode("utf-8"))
    return cache


def read_catalog(path: str | Path, fmt: str = "auto", fdsn_url: str | None = None,
                 query: dict[str, Any] | None = None) -> list[Event]:
    """Read a catalog file; for ``fmt='fdsn'`` query ``fdsn_url`` first unless ``path`` already caches the answer."""
    p = Path(path)
    if fmt == "fdsn":
        if not fdsn_url:
            raise CatalogError("catalog.fdsn_url: required when catalog.format is 'fdsn'")
        if not p.exists():
            fetch_fdsn(fdsn_url, query or {}, p)
        fmt = "csv"
    if not p.is_file():
        raise CatalogError(f"catalog.path: {p} does not exist (expected a ComCat CSV or GeoJSON file)")
    if fmt == "auto":
        fmt = detect_format(p)
    # utf-8-sig: a byte-order mark (spreadsheet exports) is dropped instead of becoming part of the first column name
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    return read_geojson_text(text, str(p)) if fmt == "geojson" else read_csv_text(text, str(p))
