"""Search stage for ``source: asf``: ASF query -> pair selection -> subswaths/bursts -> ``results/pairs/{event}.json``.

The query is ``asf_search.geo_search`` (https://docs.asf.alaska.edu/asf_search/searching/) with
platform Sentinel-1, beam mode IW, processing level SLC (or BURST with ``search.burst_products``),
the requested polarisation (single or dual: ``VV`` accepts ``VV`` and ``VV+VH``), the epicentre
(or the circle of ``search.radius_km``) as ``intersectsWith`` and ``event time +- window_days``.
Pair selection is :mod:`quakesar.asf.pairs`; the perpendicular baseline is ASF's own
state-vector calculation (``asf_search.baseline.calc.calculate_perpendicular_baselines``), the
one behind ASF's baseline stacks, computed locally from the search results.

Which subswaths and bursts see the epicentre (within ``search.subswath_radius_km``) comes from
ASF's burst catalogue: for full SLCs one extra BURST query per pair date (same track, same
absolute orbit), for burst products directly from the results. When the catalogue has nothing
for the pair, all three subswaths are kept and ``subswath_source`` says so (the SAFE annotation,
:mod:`quakesar.asf.safe`, can narrow this after download). A query that fails (network, service)
raises :class:`SearchError` and writes nothing: that is a retry, never a ``no_pair``.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from quakesar import atomic
from quakesar.asf import coverage
from quakesar.asf.pairs import Pair, Selection, select_pairs
from quakesar.asf.products import Scene, acquisition_from_bursts, iso, parse_time, scene_from_product

log = logging.getLogger(__name__)

SearchFn = Callable[..., Sequence[Any]]


class SearchError(RuntimeError):
    """ASF's search service could not be queried (network, CMR outage): retry later, not a no-pair."""


def _run_query(search_fn: SearchFn, eid: str, query: dict[str, Any]) -> list[Any]:
    """Call the search, turning transport/service failures into a :class:`SearchError` naming the event."""
    import requests

    try:
        from asf_search.exceptions import ASFError
    except ImportError:  # pragma: no cover - asf_search is a dependency
        ASFError = RuntimeError  # noqa: N806
    try:
        return list(search_fn(**query))
    except (requests.RequestException, ASFError, OSError) as exc:
        raise SearchError(
            f"event {eid}: the ASF search ({query.get('processingLevel')}) failed: {type(exc).__name__}: "
            f"{str(exc)[:300]}. Check the network connection and https://status.earthdata.nasa.gov; "
            "nothing was written, the search runs again next time."
        ) from exc
ALL_SUBSWATHS = ["IW1", "IW2", "IW3"]
_CROSS = {"VV": "VH", "HH": "HV", "VH": "VV", "HV": "HH"}


def default_search_fn(**query: Any) -> list[Any]:
    """The real ASF search (network): ``asf_search.geo_search(**query)``, after checking that the
    installed asf_search is recent enough to see every Sentinel-1 unit (:mod:`quakesar.asf.versions`)."""
    import asf_search

    from quakesar.asf.versions import check_version, s1d_searchable

    check_version("asf-search")
    if not s1d_searchable():
        log.warning("the installed asf_search has no Sentinel-1D SLC collections: S1D acquisitions are not "
                    "searched; upgrade asf_search to include them")
    return list(asf_search.geo_search(**query))


def event_fields(event: dict[str, Any]) -> tuple[str, dt.datetime, float, float]:
    """(id, time, latitude, longitude) of an event record, with a clear error for a bad field."""
    eid = str(event.get("id", "<no id>"))
    try:
        t = parse_time(str(event["time"]))
        lat, lon = float(event["latitude"]), float(event["longitude"])
    except KeyError as exc:
        raise ValueError(f"event record {eid}: field {exc.args[0]!r} is missing") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"event record {eid}: bad time/latitude/longitude ({exc})") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"event record {eid}: latitude/longitude out of range ({lat}, {lon})")
    return eid, t, lat, lon


def build_query(t: dt.datetime, lat: float, lon: float, cfg: dict[str, Any], burst: bool) -> dict[str, Any]:
    """The ``geo_search`` keyword arguments for one event (documented, JSON-serialisable)."""
    pol = str(cfg.get("polarisation", "VV")).upper()
    window = dt.timedelta(days=float(cfg.get("window_days", 24)))
    radius_km = float(cfg.get("radius_km", 0.0))
    if burst:  # neighbouring bursts within the subswath radius are wanted too
        radius_km = max(radius_km, float(cfg.get("subswath_radius_km", 10.0)))
    pols = [pol] if burst or pol not in _CROSS else [pol, f"{pol}+{_CROSS[pol]}"]
    return {
        "platform": "SENTINEL-1",
        "processingLevel": "BURST" if burst else "SLC",
        "beamMode": "IW",
        "polarization": pols,
        "intersectsWith": coverage.area_of_interest(lat, lon, radius_km).wkt,
        "start": iso(t - window),
        "end": iso(t + window),
        "maxResults": int(cfg.get("max_results", 500)),
    }


def asf_perpendicular_baseline(reference: Scene, secondary: Scene) -> float | None:
    """ASF's perpendicular baseline (m) of ``secondary`` relative to ``reference`` from their state vectors."""
    ref_p, sec_p = _baseline_products(reference, secondary)
    if ref_p is None or sec_p is None or getattr(ref_p, "baseline", None) is None or getattr(sec_p, "baseline", None) is None:
        return None
    from asf_search.baseline.calc import calculate_perpendicular_baselines

    a, b = copy.deepcopy(ref_p), copy.deepcopy(sec_p)
    try:
        calculate_perpendicular_baselines(a.properties["sceneName"], [a, b])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        log.warning("perpendicular baseline of %s / %s not computable: %s", reference.name, secondary.name, exc)
        return None
    value = b.properties.get("perpendicularBaseline")
    return None if value is None else float(value)


def _baseline_products(reference: Scene, secondary: Scene) -> tuple[Any, Any]:
    """The products to compare: for burst acquisitions, one burst id present on both dates."""
    if reference.members and secondary.members:
        sec = {m.full_burst_id: m for m in secondary.members}
        for m in reference.members:
            if m.full_burst_id in sec:
                return m.product, sec[m.full_burst_id].product
        return None, None
    return reference.product, secondary.product


def _to_scenes(products: Sequence[Any], candidates: list[dict[str, Any]]) -> list[Scene]:
    scenes = []
    for p in products:
        try:
            scenes.append(scene_from_product(p))
        except ValueError as exc:
            name = getattr(p, "properties", {}).get("sceneName", "<unnamed>")
            candidates.append({"scene": name, "status": "rejected", "reason": f"unreadable ASF record: {exc}"})
    return scenes


def _burst_prefilter(bursts: list[Scene], cfg: dict[str, Any], rejected: list[dict[str, Any]]) -> list[Scene]:
    """Drop bursts of the wrong polarisation/mode (recorded) before assembling acquisitions."""
    pol = str(cfg.get("polarisation", "VV")).upper()
    keep = []
    for b in bursts:
        why = None
        if b.processing_level.upper() != "BURST":
            why = f"processing level {b.processing_level} is not BURST"
        elif pol not in b.polarisations:
            why = f"polarisation {b.polarisation} lacks {pol}"
        elif not b.full_burst_id or b.absolute_orbit is None:
            why = "burst record without fullBurstID/orbit"
        if why:
            rejected.append({"scene": b.name, "start": iso(b.start), "track": b.track, "status": "rejected", "reason": why})
        else:
            keep.append(b)
    return keep


def _acquisitions(bursts: list[Scene]) -> list[Scene]:
    by_pass: dict[tuple[int, str, int], list[Scene]] = {}
    for b in bursts:
        by_pass.setdefault((b.track, b.flight_direction, int(b.absolute_orbit or 0)), []).append(b)
    return [acquisition_from_bursts(v) for _, v in sorted(by_pass.items())]


def common_bursts(ref_bursts: Sequence[Scene], sec_bursts: Sequence[Scene], lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    """Burst ids present on both dates whose footprints lie within ``radius_km`` of the epicentre.

    Returns ``subswaths``, ``bursts`` (subswath -> relative burst ids), ``full_burst_ids`` and, per
    date, the burst products (nearest first) to download.
    """
    near_ref = dict(coverage.near(((b.full_burst_id or b.name, b.footprint) for b in ref_bursts), lat, lon, radius_km))
    near_sec = dict(coverage.near(((b.full_burst_id or b.name, b.footprint) for b in sec_bursts), lat, lon, radius_km))
    ids = sorted(set(near_ref) & set(near_sec), key=lambda k: (near_ref[k], k))
    per_swath: dict[str, list[int]] = {}
    for fid in ids:
        track, rel, swath = fid.split("_")
        per_swath.setdefault(swath, []).append(int(rel))
    return {
        "subswaths": sorted(per_swath),
        "bursts": {k: sorted(v) for k, v in sorted(per_swath.items())},
        "full_burst_ids": sorted(ids),
        "reference_bursts": [b for b in ref_bursts if b.full_burst_id in set(ids)],
        "secondary_bursts": [b for b in sec_bursts if b.full_burst_id in set(ids)],
    }


def bursts_of_scene(bursts: Sequence[Scene], scene: Scene) -> tuple[list[Scene], list[Scene]]:
    """(kept, dropped): the bursts of ``scene``'s own SLC among a burst query's results.

    The burst query pads the scene's time span (ASF's burst times need not lie inside the SLC's),
    so bursts of the neighbouring frame of the same pass match too; the SNAP stage would later
    refuse them (:mod:`quakesar.interferogram.snap.bursts`: not in this SLC's annotation). A burst
    whose record names its source SLC (:func:`quakesar.asf.products.burst_source_scene`) is kept
    when that SLC is ``scene``; otherwise when its time span's midpoint lies within the scene's.
    """
    kept, dropped = [], []
    for b in bursts:
        if b.source_scene:
            inside = b.source_scene == scene.name
        else:
            mid = b.start + (b.stop - b.start) / 2
            inside = scene.start <= mid <= scene.stop
        (kept if inside else dropped).append(b)
    return kept, dropped


def _burst_lookup(pair: Pair, lat: float, lon: float, cfg: dict[str, Any], search_fn: SearchFn, eid: str) -> dict[str, Any]:
    """Subswaths/bursts of a full-SLC pair from ASF's burst catalogue (one BURST query per date)."""
    radius_km = float(cfg.get("subswath_radius_km", 10.0))
    aoi = coverage.area_of_interest(lat, lon, radius_km).wkt
    pol = str(cfg.get("polarisation", "VV")).upper()
    found = []
    for scene in (pair.reference, pair.secondary):
        query = {
            "platform": "SENTINEL-1",
            "processingLevel": "BURST",
            "beamMode": "IW",
            "polarization": [pol],
            "relativeOrbit": scene.track,
            "intersectsWith": aoi,
            "start": iso(scene.start - dt.timedelta(seconds=5)),
            "end": iso(scene.stop + dt.timedelta(seconds=5)),
            "maxResults": int(cfg.get("max_results", 500)),
        }
        bursts = [b for b in _to_scenes(_run_query(search_fn, eid, query), []) if b.absolute_orbit == scene.absolute_orbit and b.is_burst]
        bursts, other = bursts_of_scene(bursts, scene)
        if other:
            log.info("%s: %d bursts of the same pass outside %s dropped (%s)", eid, len(other), scene.name,
                     ", ".join(sorted({b.source_scene or b.name for b in other})))
        found.append(bursts)
    result = common_bursts(found[0], found[1], lat, lon, radius_km)
    result["source"] = "asf_burst_catalogue"
    return result


def _pair_record(pair: Pair, cov: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    ref, sec = pair.reference, pair.secondary
    ref_rec, sec_rec = ref.record(), sec.record()
    if ref.members:  # burst products: keep only the bursts both dates share near the epicentre
        keep = set(cov["full_burst_ids"])
        ref_rec["bursts"] = [m.record() for m in ref.members if m.full_burst_id in keep]
        sec_rec["bursts"] = [m.record() for m in sec.members if m.full_burst_id in keep]
        granules = [b["scene"] for b in ref_rec["bursts"]] + [b["scene"] for b in sec_rec["bursts"]]
    else:
        granules = [ref.name, sec.name]
    d = "A" if ref.flight_direction.startswith("asc") else "D"
    return {
        "reference": ref_rec,
        "secondary": sec_rec,
        "track": ref.track,
        "flight_direction": ref.flight_direction,
        "frame": ref.frame,
        "frames": [ref.frame, sec.frame],
        "polarisation": str(cfg.get("polarisation", "VV")).upper(),
        "temporal_baseline_days": round(pair.temporal_baseline_days, 4),
        "perpendicular_baseline_m": None if pair.perpendicular_baseline_m is None else round(float(pair.perpendicular_baseline_m), 2),
        "overlap": round(pair.overlap, 4),
        "subswaths": cov["subswaths"],
        "bursts": cov["bursts"],
        "full_burst_ids": cov["full_burst_ids"],
        "subswath_source": cov["source"],
        "subswath_radius_km": float(cfg.get("subswath_radius_km", 10.0)),
        "granules": granules,
        "scene_id": f"S1_T{ref.track:03d}{d}_{ref.start:%Y%m%d}_{sec.start:%Y%m%d}",
    }


def find_pairs(event: dict[str, Any], cfg: dict[str, Any], search_fn: SearchFn | None = None) -> dict[str, Any]:
    """Search ASF for one event and return the pairs document (see docs/architecture.md, "Pairs")."""
    search_fn = search_fn or default_search_fn
    eid, t, lat, lon = event_fields(event)
    burst_mode = bool(cfg.get("burst_products", False))
    query = build_query(t, lat, lon, cfg, burst_mode)
    extra: list[dict[str, Any]] = []
    products = _run_query(search_fn, eid, query)
    truncated = len(products) >= int(query["maxResults"])
    if truncated:
        log.warning("%s: ASF returned %d results, the search.max_results limit; some acquisitions may be missing", eid, len(products))
    scenes = _to_scenes(products, extra)
    if burst_mode:
        scenes = _acquisitions(_burst_prefilter(scenes, cfg, extra))
    sel: Selection = select_pairs(scenes, t, lat, lon, cfg, asf_perpendicular_baseline)

    pairs = []
    for pair in sel.pairs:
        if burst_mode:
            cov = common_bursts(pair.reference.members, pair.secondary.members, lat, lon, float(cfg.get("subswath_radius_km", 10.0)))
            cov["source"] = "asf_burst_products"
        else:
            cov = _burst_lookup(pair, lat, lon, cfg, search_fn, eid)  # a failed query fails the search (retried)
            if not cov["subswaths"]:
                cov = {"subswaths": list(ALL_SUBSWATHS), "bursts": {}, "full_burst_ids": [],
                       "source": "all subswaths: burst catalogue gave no coverage"}
        if burst_mode and not cov["subswaths"]:
            continue  # cannot happen for a valid pair (its union covers the epicentre), kept defensive
        pairs.append(_pair_record(pair, cov, cfg))

    status = "ok" if pairs else "no_pair"
    reason = sel.reason if status == "no_pair" else ""
    return {
        "event_id": eid,
        "event_time": iso(t),
        "epicentre": {"latitude": lat, "longitude": lon},
        "status": status,
        "reason": reason or ("" if status == "ok" else "no pair with common bursts over the epicentre"),
        "mode": "burst" if burst_mode else "slc",
        "query": query,
        "results": len(products),
        "truncated": truncated,
        "pairs": pairs,
        "candidates": extra + sel.candidates,
        "evaluated_pairs": sel.evaluated_pairs,
    }


def search_event(event: dict[str, Any], cfg: dict[str, Any], out_json: Path, search_fn: SearchFn | None = None) -> dict[str, Any]:
    """Search one event and write ``out_json`` atomically; returns the document.

    ``cfg`` is the ``search`` config section; ``search_fn`` replaces ``asf_search.geo_search``
    (tests pass recorded ASF responses).
    """
    doc = find_pairs(event, cfg, search_fn)
    atomic.write_json(out_json, doc)
    n = len(doc["candidates"])
    if doc["status"] == "ok":
        p = doc["pairs"][0]
        log.info("%s: %d candidates, pair %s (%s d, B_perp %s m, %s)", doc["event_id"], n, p["scene_id"],
                 p["temporal_baseline_days"], p["perpendicular_baseline_m"], ",".join(p["subswaths"]))
    else:
        log.info("%s: no pair (%s)", doc["event_id"], doc["reason"])
    return doc


def load_event(path: str | Path) -> dict[str, Any]:
    """Read an event record JSON (catalog stage output)."""
    import json

    p = Path(path)
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON ({exc})") from exc
