"""Pair search on real recorded ASF responses (no network).

ASF's servers cannot be reached from tests, so the boundary is tested with what they really
return: asf_search's own recorded search/stack responses (tests/fixtures/asf/search, trimmed from
asf_search's test resources). Products are built from the recorded UMM records exactly as
asf_search's test-suite does (``as_ASFProduct({"umm": ..., "meta": ...}, ASFSession())``), and a
stand-in for ``geo_search`` applies the query's filters (level, time span, polarisation, relative
orbit, ``intersectsWith``) to them, so the query we build is exercised too. Event times are placed
inside the recorded stacks.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from shapely import wkt as shapely_wkt
from shapely.geometry import shape

from quakesar.asf import search as asf_search_mod
from quakesar.asf.pairs import select_pairs
from quakesar.asf.products import parse_time, scene_from_product

FIX = Path(__file__).parent / "fixtures" / "asf" / "search"
SLC_STACK = FIX / "S1_SLC_stack_t013_subset.yml"
BURST_STACK = FIX / "S1_BURST_stack_174_372326_IW3_subset.yml"
FAIRBANKS = FIX / "Fairbanks_SLC.yml"

P0 = (54.6855, -120.8258)  # centre of the track-13 frame; inside every scene of the subset but the 406 slices
P_OVERLAP = (54.834, -120.793)  # inside both the 406 and the 412 slices of 2016
P_BURST = (57.04282649297329, -135.917406937361)  # centre of burst 174_372326_IW3

CFG = {"window_days": 24, "radius_km": 0.0, "polarisation": "VV", "pairs": "one", "burst_products": False,
       "subswath_radius_km": 10.0, "max_results": 500}


@lru_cache(maxsize=None)
def _records(path: Path) -> tuple:
    recs = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return tuple(recs if isinstance(recs, list) else [recs])


def load_products(*paths: Path) -> list:
    """asf_search products from recorded UMM records, as asf_search's own tests build them."""
    from asf_search import ASFSession
    from asf_search.search.search_generator import as_ASFProduct

    session = ASFSession()
    return [as_ASFProduct({"umm": r["umm"], "meta": r["meta"]}, session) for p in paths for r in _records(p)]


def fake_geo_search(products: list, calls: list | None = None):
    """A stand-in for asf_search.geo_search over recorded products (CMR-like filtering of the query)."""

    def search(**q):
        if calls is not None:
            calls.append(q)
        aoi = shapely_wkt.loads(q["intersectsWith"])
        t0, t1 = parse_time(q["start"]), parse_time(q["end"])
        out = []
        for p in products:
            pr = p.properties
            if pr["processingLevel"] != q["processingLevel"] or pr["polarization"] not in q["polarization"]:
                continue
            if "relativeOrbit" in q and int(pr["pathNumber"]) != int(q["relativeOrbit"]):
                continue
            if not (t0 <= parse_time(pr["startTime"]) <= t1) or not shape(p.geometry).intersects(aoi):
                continue
            out.append(p)
        return out

    return search


def event(t: str, lat: float, lon: float, eid: str = "evtest") -> dict:
    return {"id": eid, "time": t, "latitude": lat, "longitude": lon}


def by_scene(doc: dict) -> dict:
    return {c["scene"]: c for c in doc["candidates"]}


def test_twelve_day_pair_chosen_with_asf_baseline(tmp_path):
    """Event 2020-05-10 on track 13: the 12-day S1B pair 05-01/05-13 wins over the 24-day ones."""
    calls: list = []
    doc = asf_search_mod.search_event(event("2020-05-10T12:00:00Z", *P0), CFG, tmp_path / "e.json",
                                      search_fn=fake_geo_search(load_products(SLC_STACK), calls))
    assert doc["status"] == "ok" and len(doc["pairs"]) == 1
    p = doc["pairs"][0]
    assert p["reference"]["scene"].startswith("S1B_IW_SLC__1SDV_20200501T141902")
    assert p["secondary"]["scene"].startswith("S1B_IW_SLC__1SDV_20200513T141902")
    assert p["track"] == 13 and p["flight_direction"] == "descending" and p["polarisation"] == "VV"
    assert p["temporal_baseline_days"] == pytest.approx(12.0, abs=0.01)
    # ASF's recorded stack baselines (relative to its reference) are -18 m and -101 m: difference -83 m
    assert p["perpendicular_baseline_m"] == pytest.approx(-83.0, abs=3.0)
    assert p["reference"]["md5"] and p["reference"]["bytes"] > 1e9 and p["reference"]["url"].endswith(".zip")
    assert p["granules"] == [p["reference"]["scene"], p["secondary"]["scene"]]
    assert p["scene_id"] == "S1_T013D_20200501_20200513"
    # no burst records exist for this area: all subswaths, and the reason is recorded
    assert p["subswaths"] == ["IW1", "IW2", "IW3"] and "no coverage" in p["subswath_source"]
    cand = by_scene(doc)
    reasons = {k[17:25]: v["reason"] for k, v in cand.items()}
    assert cand[p["reference"]["scene"]]["status"] == "kept"
    assert "ranks higher" in reasons["20200419"] and "ranks higher" in reasons["20200525"]
    assert "20200606" not in reasons and "20200407" not in reasons  # ASF is asked for the window only
    assert len(doc["evaluated_pairs"]) == 4
    # the query asked ASF for SLC IW VV/VV+VH around the event
    q = calls[0]
    assert q["processingLevel"] == "SLC" and q["beamMode"] == "IW" and q["polarization"] == ["VV", "VV+VH"]
    assert q["start"].startswith("2020-04-16T12:00") and q["end"].startswith("2020-06-03T12:00")
    # the file on disk is the returned document, canonical JSON
    assert json.loads((tmp_path / "e.json").read_text()) == json.loads(json.dumps(doc))


def test_pairs_across_drifting_frame_numbers():
    """2015: the same slice is ESA frame 410 before and 408 after the event; it is still a valid pair."""
    doc = asf_search_mod.find_pairs(event("2015-11-10T00:00:00Z", *P0), CFG, fake_geo_search(load_products(SLC_STACK)))
    p = doc["pairs"][0]
    assert p["frames"] == [410, 408]
    assert p["reference"]["scene"][17:25] == "20151025" and p["secondary"]["scene"][17:25] == "20151118"
    assert p["temporal_baseline_days"] == pytest.approx(24.0, abs=0.01)
    # ASF's stack values are relative to a third scene; across frames the scene centres differ, so
    # the difference of stack values agrees only to ~10 m
    assert p["perpendicular_baseline_m"] == pytest.approx(12 - 68, abs=10.0)


def test_equal_temporal_baseline_broken_by_perpendicular_then_overlap():
    """2016: two slices per date cover the point; all four pairs are 24 days apart."""
    products = load_products(SLC_STACK)
    t = parse_time("2016-10-20T00:00:00Z")
    scenes = [scene_from_product(p) for p in products]
    sel = select_pairs(scenes, t, *P_OVERLAP, CFG, asf_search_mod.asf_perpendicular_baseline)
    assert len(sel.evaluated_pairs) == 4
    bperps = sorted(abs(e["perpendicular_baseline_m"]) for e in sel.evaluated_pairs)
    best = sel.pairs[0]
    assert abs(best.perpendicular_baseline_m) == pytest.approx(bperps[0])
    assert bperps[0] < bperps[-1] - 20  # the choice was made on B_perp, not by accident
    # with equal baselines the pair of best-overlapping footprints (same slice) wins
    sel0 = select_pairs(scenes, t, *P_OVERLAP, CFG, lambda a, b: 0.0)
    assert sel0.pairs[0].reference.frame == sel0.pairs[0].secondary.frame
    assert sel0.pairs[0].overlap > 0.95 and min(e["overlap"] for e in sel0.evaluated_pairs) < 0.2


@pytest.mark.parametrize(
    "when, where, cfg_over, expect",
    [
        ("2016-01-20T00:00:00Z", P0, {}, "no track has both"),  # gap in the stack: only a pre-event scene
        ("2016-03-01T00:00:00Z", P0, {}, "ASF returned no"),  # inside the gap: nothing within +-24 days
        ("2020-05-10T12:00:00Z", (64.9861, -147.0909), {}, "ASF returned no"),  # Fairbanks: nothing here
        ("2020-05-10T12:00:00Z", P0, {"polarisation": "HH"}, "ASF returned no"),
        ("2020-05-10T12:00:00Z", P0, {"radius_km": 300.0}, "footprint does not contain the 300-km circle"),
    ],
)
def test_no_pair_is_a_recorded_outcome(tmp_path, when, where, cfg_over, expect):
    cfg = {**CFG, **cfg_over}
    doc = asf_search_mod.search_event(event(when, *where), cfg, tmp_path / "n.json",
                                      search_fn=fake_geo_search(load_products(SLC_STACK, FAIRBANKS)))
    assert doc["status"] == "no_pair" and doc["pairs"] == []
    assert expect in doc["reason"]
    assert json.loads((tmp_path / "n.json").read_text())["status"] == "no_pair"


def test_gap_rejections_name_the_missing_side():
    doc = asf_search_mod.find_pairs(event("2016-01-20T00:00:00Z", *P0), CFG, fake_geo_search(load_products(SLC_STACK)))
    assert doc["status"] == "no_pair"
    pre = [c for c in doc["candidates"] if c["role"] == "pre"]
    assert pre and all("no post-event acquisition on track 13 descending" in c["reason"] for c in pre)


def test_scene_straddling_event_and_polarisation_rejected():
    products = load_products(SLC_STACK)
    scenes = [scene_from_product(p) for p in products]
    s = next(x for x in scenes if x.name[17:25] == "20200513")
    mid = s.start + (s.stop - s.start) / 2
    sel = select_pairs(scenes, mid, *P0, CFG, lambda a, b: 0.0)
    rec = {c["scene"]: c for c in sel.candidates}
    assert "while the event happened" in rec[s.name]["reason"]
    assert sel.pairs[0].secondary.name[17:25] == "20200525"  # the next post-event scene instead
    # scenes ASF returned outside the window are rejected with the reason
    wide = select_pairs(scenes, mid, *P0, {**CFG, "window_days": 12}, None)
    rec_w = {c["scene"][17:25]: c["reason"] for c in wide.candidates}
    assert "outside the +-12-day window" in rec_w["20200606"] and "outside" in rec_w["20200419"]
    sel_hh = select_pairs(scenes, mid, *P0, {**CFG, "polarisation": "HH"}, None)
    assert sel_hh.status == "no_pair" and all("lacks HH" in c["reason"] for c in sel_hh.candidates)


def test_per_track_and_one():
    products = load_products(SLC_STACK, FAIRBANKS)
    f = fake_geo_search(products)
    one = asf_search_mod.find_pairs(event("2020-05-10T12:00:00Z", *P0), CFG, f)
    per = asf_search_mod.find_pairs(event("2020-05-10T12:00:00Z", *P0), {**CFG, "pairs": "per_track"}, f)
    assert len(one["pairs"]) == 1 and len(per["pairs"]) == len({(c["track"], c["flight_direction"]) for c in per["candidates"] if c["status"] == "kept"}) == 1
    # a scene far away on another track is rejected by its footprint, not silently ignored
    scenes = [scene_from_product(p) for p in products]
    sel = select_pairs(scenes, parse_time("2020-05-10T12:00:00Z"), *P0, {**CFG, "window_days": 10000}, None)
    fair = [c for c in sel.candidates if c["track"] == 94]
    assert fair and all("footprint does not contain the epicentre" in c["reason"] for c in fair)


def test_burst_products_pair(tmp_path):
    """Burst mode on ASF's recorded burst stack of 174_372326_IW3 (S1B, 12-day revisit, 2018)."""
    calls: list = []
    cfg = {**CFG, "burst_products": True}
    doc = asf_search_mod.search_event(event("2018-07-01T00:00:00Z", *P_BURST), cfg, tmp_path / "b.json",
                                      search_fn=fake_geo_search(load_products(BURST_STACK, FIX / "SLC_BURST.yml"), calls))
    assert calls[0]["processingLevel"] == "BURST" and calls[0]["polarization"] == ["VV"]
    assert doc["status"] == "ok" and doc["mode"] == "burst"
    p = doc["pairs"][0]
    assert p["subswaths"] == ["IW3"] and p["bursts"] == {"IW3": [372326]}
    assert p["full_burst_ids"] == ["174_372326_IW3"] and p["subswath_source"] == "asf_burst_products"
    assert p["granules"] == ["S1_372326_IW3_20180628T151555_VV_4673-BURST", "S1_372326_IW3_20180710T151556_VV_A62C-BURST"]
    assert p["temporal_baseline_days"] == pytest.approx(12.0, abs=0.01)
    assert p["perpendicular_baseline_m"] == pytest.approx(42 - 78, abs=4.0)
    b0 = p["reference"]["bursts"][0]
    assert b0["url"].endswith(".tiff") and b0["bytes"] > 1e8 and b0["metadata_url"].endswith(".xml")


def test_burst_ids_of_a_full_slc_pair_from_the_burst_catalogue():
    """SLC mode asks ASF's burst catalogue which bursts of the two dates see the epicentre."""
    products = load_products(BURST_STACK)
    bursts = [scene_from_product(p) for p in products]
    ref = [b for b in bursts if b.absolute_orbit == 11575]
    sec = [b for b in bursts if b.absolute_orbit == 11750]
    cov = asf_search_mod.common_bursts(ref, sec, *P_BURST, 10.0)
    assert cov["subswaths"] == ["IW3"] and cov["bursts"] == {"IW3": [372326]}
    far = asf_search_mod.common_bursts(ref, sec, P_BURST[0] + 1.0, P_BURST[1], 10.0)  # ~110 km north
    assert far["subswaths"] == [] and far["full_burst_ids"] == []
    near = asf_search_mod.common_bursts(ref, sec, P_BURST[0] + 0.25, P_BURST[1], 30.0)  # outside, within 30 km
    assert near["bursts"] == {"IW3": [372326]}


def test_bad_event_record_names_the_field(tmp_path):
    with pytest.raises(ValueError, match="evbad.*'time'"):
        asf_search_mod.search_event({"id": "evbad", "latitude": 1.0, "longitude": 2.0}, CFG, tmp_path / "x.json", search_fn=lambda **q: [])
    with pytest.raises(ValueError, match="out of range"):
        asf_search_mod.search_event(event("2020-01-01T00:00:00Z", 95.0, 0.0, "evbad"), CFG, tmp_path / "x.json", search_fn=lambda **q: [])


def test_queries_are_valid_asf_search_options():
    """The queries pass asf_search's own option validation and translate into the intended CMR filters."""
    from asf_search import ASFSearchOptions
    from asf_search.CMR.subquery import build_subqueries
    from asf_search.CMR.translate import translate_opts

    t = parse_time("2020-05-15T11:03:27Z")
    for burst, pols in ((False, ["VV", "VV+VH"]), (True, ["VV"])):
        q = asf_search_mod.build_query(t, 38.169, -117.85, {**CFG, "burst_products": burst, "radius_km": 5.0}, burst)
        flat = [kv for sub in build_subqueries(ASFSearchOptions(**q)) for kv in translate_opts(sub)]
        assert ("attribute[]", "string,BEAM_MODE,IW") in flat and ("platform[]", "SENTINEL-1") in flat
        assert {v for k, v in flat if k == "attribute[]" and "POLARIZATION" in v} == {f"string,POLARIZATION,{p}" for p in pols}
        assert ("temporal", "2020-04-21T11:03:27Z,2020-06-08T11:03:27Z,") in flat
        assert any(k == "polygon" for k, _ in flat)  # the 5-km (or 10-km for bursts) circle
        short = {v for k, v in flat if k == "shortName"}
        assert ("SENTINEL-1_BURSTS" in short) if burst else ("SENTINEL-1A_SLC" in short)


def test_truncated_results_are_flagged():
    products = load_products(SLC_STACK)
    doc = asf_search_mod.find_pairs(event("2020-05-10T12:00:00Z", *P0), {**CFG, "max_results": 3}, lambda **q: products[:3])
    assert doc["truncated"] is True and doc["results"] == 3


def test_search_service_failure_is_an_error_not_a_no_pair(tmp_path):
    """A network failure (main query or the burst-catalogue query) writes nothing and names the event."""
    import requests

    def down(**q):
        raise requests.ConnectionError("Failed to resolve 'cmr.earthdata.nasa.gov'")

    with pytest.raises(asf_search_mod.SearchError, match="event evtest: the ASF search \\(SLC\\) failed: ConnectionError"):
        asf_search_mod.search_event(event("2020-05-10T12:00:00Z", *P0), CFG, tmp_path / "f.json", search_fn=down)
    products = load_products(SLC_STACK)
    slc_only = fake_geo_search(products)

    def burst_down(**q):
        return down(**q) if q["processingLevel"] == "BURST" else slc_only(**q)

    with pytest.raises(asf_search_mod.SearchError, match="\\(BURST\\) failed"):
        asf_search_mod.search_event(event("2020-05-10T12:00:00Z", *P0), CFG, tmp_path / "f.json", search_fn=burst_down)
    assert not (tmp_path / "f.json").exists()
