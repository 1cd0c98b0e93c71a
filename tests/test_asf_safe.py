"""Subswath/burst coverage and burst ids from real Sentinel-1 SAFE annotations (tests/fixtures/asf/safe).

The SAFEs are real ESA products with their measurement rasters left out (metadata only), read as
zips in place. Burst ids computed from ``azimuthAnxTime`` are checked against the ids that
IPF >= 3.40 annotations carry and against ASF's burst catalogue record of the same acquisition.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from shapely.geometry import shape

from quakesar.asf import safe

FIX = Path(__file__).parent / "fixtures" / "asf"
MONTE_CRISTO_FRAME = FIX / "safe" / "S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip"
T108 = sorted((FIX / "safe").glob("S1A_IW_SLC__1SDV_2025*.zip"))
T174 = sorted((FIX / "safe").glob("S1B_IW_SLC__1SSV_*.zip"))
EPI = (38.169, -117.850)  # Monte Cristo Range Mw 6.5, 2020-05-15 (USGS nn00725272)


def test_monte_cristo_epicentre_is_in_iw3():
    anns = safe.read_safe(MONTE_CRISTO_FRAME)
    assert [a.subswath for a in anns] == ["IW1", "IW2", "IW3"]
    assert {a.track for a in anns} == {71} and {a.flight_direction for a in anns} == {"descending"}
    assert all(len(a.bursts) == 9 for a in anns) and anns[2].lines_per_burst == 1515
    cov = safe.coverage(anns, *EPI, radius_km=0.0)
    assert cov["subswaths"] == ["IW3"]
    assert cov["containing"]["subswath"] == "IW3"
    iw3 = anns[2]
    inside = [b for b in iw3.bursts if b.footprint.covers(shape({"type": "Point", "coordinates": [EPI[1], EPI[0]]}))]
    assert [b.burst_id for b in inside] == [cov["containing"]["burst_id"]]
    # within 10 km: IW3 only (IW2 is farther), and the neighbouring burst joins
    cov10 = safe.coverage(anns, *EPI, radius_km=10.0)
    assert cov10["subswaths"] == ["IW3"] and len(cov10["bursts"]["IW3"]) == 2
    assert all(fid.startswith("071_") and fid.endswith("_IW3") for fid in cov10["full_burst_ids"])
    # a large radius reaches IW2 as well, never IW1 (the far side of the frame for this point)
    cov40 = safe.coverage(anns, *EPI, radius_km=40.0)
    assert "IW2" in cov40["subswaths"] and "IW1" not in cov40["subswaths"]


def test_burst_footprints_tile_the_subswath():
    """Consecutive bursts share their boundary row of the geolocation grid; bursts march along track."""
    iw3 = safe.read_safe(MONTE_CRISTO_FRAME)[2]
    for a, b in zip(iw3.bursts, iw3.bursts[1:]):
        assert a.footprint.intersection(b.footprint).length > 50e-3  # a shared edge (degrees), not a gap
        assert b.burst_id == a.burst_id + 1
        assert b.azimuth_time > a.azimuth_time
    lats = [bu.footprint.centroid.y for bu in iw3.bursts]
    assert lats == sorted(lats, reverse=True)  # descending pass: bursts move south


@pytest.mark.parametrize("path", T108 + [FIX / "safe" / "S1A_IW_SLC__1SDV_20221016T015043_20221016T015111_045461_056FC0_6681.zip"])
def test_computed_burst_ids_equal_annotated_ids(path):
    anns = safe.read_safe(path)
    n = 0
    for a in anns:
        for b in a.bursts:
            assert b.burst_id_source == "annotation"
            assert safe.burst_id_from_anx(b.azimuth_anx_time_s, a.track, a.subswath) == b.burst_id, (path.name, a.subswath, b.index)
            x = (b.azimuth_anx_time_s + (a.track - 1) * safe.T_ORBIT_S - safe.T_PRE_S) / safe.T_BEAM_S + safe._SWATH_PHASE[a.subswath]
            assert abs(x % 1.0 - 0.5) < 0.06  # far from a cycle boundary: the id is not a rounding accident
            n += 1
    assert n >= 9


def test_burst_ids_match_across_the_two_dates_of_a_pair():
    (a1, a2) = [safe.read_safe(p) for p in T108]
    for s1, s2 in zip(a1, a2):
        assert s1.subswath == s2.subswath and s1.track == s2.track == 108
        assert [b.burst_id for b in s1.bursts] == [b.burst_id for b in s2.bursts]
    # the same epicentre selects the same burst ids on both dates
    lat, lon = a1[1].bursts[4].footprint.centroid.y, a1[1].bursts[4].footprint.centroid.x
    c1, c2 = safe.coverage(a1, lat, lon, 5.0), safe.coverage(a2, lat, lon, 5.0)
    assert c1["full_burst_ids"] == c2["full_burst_ids"] and "108_" + str(a1[1].bursts[4].burst_id) + "_IW2" in c1["full_burst_ids"]


def test_single_burst_pair_matches_asf_burst_catalogue():
    """S1B track 174, 2018-06-28 and 2019-07-05: no annotated ids (old IPF), computed ids agree with ASF."""
    ids = []
    for p in T174:
        iw3 = [a for a in safe.read_safe(p) if a.subswath == "IW3"][0]
        assert len(iw3.bursts) == 1 and iw3.bursts[0].burst_id_source == "computed"
        ids.append(iw3.bursts[0])
    assert ids[0].burst_id == ids[1].burst_id == 372326
    recs = yaml.load((FIX / "search" / "S1_BURST_stack_174_372326_IW3_subset.yml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    rec = next(r for r in recs if r["properties"]["orbit"] == 11575)  # the same acquisition as the 2018 SAFE
    assert rec["properties"]["burst"]["relativeBurstID"] == ids[0].burst_id
    asf_fp = shape(rec["geometry"])
    inter = asf_fp.intersection(ids[0].footprint).area
    assert inter / min(asf_fp.area, ids[0].footprint.area) > 0.8


def test_relative_orbit_and_errors(tmp_path):
    assert safe.relative_orbit("S1A", 32518) == 71 and safe.relative_orbit("S1B", 11575) == 174
    # the orbit arithmetic agrees with the manifests of every fixture
    for p in sorted((FIX / "safe").glob("*.zip")):
        with safe.SafeReader(p) as r:
            track = safe.manifest_relative_orbit(r)
            ann = safe.parse_annotation(r.read(safe.annotation_names(r)[0]))  # no manifest given: arithmetic
        assert track == ann.track, p.name
    with pytest.raises(ValueError, match="unknown Sentinel-1 mission"):
        safe.relative_orbit("S2A", 1)
    with pytest.raises(FileNotFoundError, match="nope.zip"):
        safe.read_safe(tmp_path / "nope.zip")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("X.SAFE/manifest.safe", "<x/>")
    with pytest.raises(ValueError, match="no VV subswath annotation"):
        safe.read_safe(empty)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("X.SAFE/annotation/s1a-iw1-slc-vv-x.xml", "<product><adsHeader></adsHeader></product>")
    with pytest.raises(ValueError, match="s1a-iw1-slc-vv-x.xml.*missionId"):
        safe.read_safe(broken)
