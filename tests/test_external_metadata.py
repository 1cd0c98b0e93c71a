"""Metadata parsers on real metadata files of processed products (tests/fixtures/external/README.md).

Expected values are read off the files themselves (and, for tracks and burst ids, cross-checked
against independent real material: the SAFE annotations and ASF burst records in
tests/fixtures/asf).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from quakesar.external.metadata import (MetadataError, licsar_pair_dates, parse_gamma_par, parse_granule, parse_hyp3,
                                        parse_licsar_frame, parse_licsar_metadata, parse_rsc, relative_orbit,
                                        track_from_burst_id)
from quakesar.external.raster import georef_from_header

FIX = Path(__file__).parent / "fixtures" / "external"
UTC = dt.timezone.utc


def test_hyp3_isce2_burst_parameter_file_and_readme() -> None:
    name = "S1_136232_IW2_20200604_20200616_VV_INT80_663F"
    meta = parse_hyp3((FIX / "hyp3" / f"{name}.txt").read_text(), f"{name}.txt",
                      (FIX / "hyp3" / f"{name}_README.md.txt").read_text())
    assert meta.job_type == "INSAR_ISCE_BURST" and meta.processor == "ISCE2"
    assert [g.name for g in meta.reference] == ["S1_136232_IW2_20200604T022315_VV_7C85-BURST"]
    assert meta.reference_time == dt.datetime(2020, 6, 4, 2, 23, 15, tzinfo=UTC)
    assert meta.secondary_time == dt.datetime(2020, 6, 16, 2, 23, 16, tzinfo=UTC)
    assert meta.flight_direction == "descending" and meta.heading_deg == pytest.approx(-167.4428091316586)
    assert (meta.range_looks, meta.azimuth_looks) == (20, 4) and meta.pixel_spacing_m == 80.0
    assert meta.subswath == "IW2" and meta.baseline_m == pytest.approx(-66.107, abs=1e-3)
    # track 64 from the burst id agrees with the S1A absolute orbit 32861 of the same file
    assert meta.track == 64 == relative_orbit("S1A", int(meta.fields["Reference Orbit Number"]))


def test_hyp3_parameter_file_of_an_slc_pair() -> None:
    meta = parse_hyp3((FIX / "hyp3" / "slc_pair_t108_parameters.txt").read_text())
    assert meta.job_type == "INSAR_GAMMA"  # SLC granules, as a GAMMA product has
    assert meta.reference[0].mission == "S1A" and meta.reference[0].absolute_orbit == 58630
    assert meta.track == 108  # the real pair's relative orbit (tests/fixtures/asf/safe: ..._058630_...)
    assert meta.flight_direction == "ascending" and meta.heading_deg == pytest.approx(-15.3974576912639)
    assert meta.reference_time == dt.datetime(2025, 4, 6, 2, 20, 8, tzinfo=UTC)
    assert (meta.range_looks, meta.azimuth_looks) == (4, 20)


def test_hyp3_gamma_readme() -> None:
    name = "S1AA_20240707T100141_20240719T100140_VVR012_INT80_G_ueF_C070"
    readme = (FIX / "ecat" / f"{name}.README.md").read_text()
    txt = ("Reference Granule: S1A_IW_SLC__1SDV_20240707T100141_20240707T100208_054653_06A742_11FC\n"
           "Secondary Granule: S1A_IW_SLC__1SDV_20240719T100140_20240719T100207_054828_06AD4D_324B\n"
           "Reference Pass Direction: DESCENDING\nHeading: -167.0\n")  # the granules the README names
    meta = parse_hyp3(txt, "t.txt", readme)
    assert meta.processor == "GAMMA" and meta.pixel_spacing_m == 80.0
    assert meta.track == relative_orbit("S1A", 54653) == 156


def test_hyp3_errors_name_the_file_and_field() -> None:
    with pytest.raises(MetadataError, match="x.txt: field 'Heading' missing"):
        parse_hyp3("Reference Granule: S1_136232_IW2_20200604T022315_VV_7C85-BURST\nSecondary Granule: "
                   "S1_136232_IW2_20200616T022316_VV_5D11-BURST\nReference Pass Direction: DESCENDING\n", "x.txt")
    with pytest.raises(MetadataError, match="y.txt: field 'Reference Granule'.*neither"):
        parse_hyp3("Reference Granule: foo\nSecondary Granule: bar\nReference Pass Direction: UP\nHeading: 1\n", "y.txt")


def test_licsar_metadata_and_frame() -> None:
    meta = parse_licsar_metadata((FIX / "licsar" / "149A_11032_131313_metadata.txt").read_text(), "metadata.txt")
    assert meta.get("heading") == pytest.approx(-13.775063)
    assert meta.get("avg_incidence_angle") == pytest.approx(39.1918)
    assert meta.get("centre_range_m") == pytest.approx(880080.5691)
    assert meta.center_time is None and meta.get("applied_DEM") is None  # not in this frame's quoted values
    assert parse_licsar_frame("149A_11032_131313") == (149, "ascending")
    assert parse_licsar_frame("022D_05152_131313") == (22, "descending")
    assert licsar_pair_dates("20210224_20210308.geo.unw.tif") == (dt.date(2021, 2, 24), dt.date(2021, 3, 8))
    with_time = parse_licsar_metadata("master=20190504\ncenter_time=4:35:12.512000\n")
    assert with_time.center_time == dt.time(4, 35, 12, 512000)
    with pytest.raises(MetadataError, match="frame id"):
        parse_licsar_frame("149_11032")
    with pytest.raises(MetadataError, match="not after"):
        licsar_pair_dates("20210308_20210224")


def test_roi_pac_rsc_headers_give_the_grid() -> None:
    meta = parse_rsc((FIX / "ecat" / "geo_20211229_20220110.phs.rsc").read_text())
    assert (meta["WIDTH"], meta["FILE_LENGTH"], meta["X_UNIT"]) == ("4004", "2833", "degrees")
    geo = georef_from_header(meta, ".rsc", "phs.rsc")
    assert geo.shape == (2833, 4004)
    assert geo.transform == pytest.approx((99.4391667, 8.3333333e-4, 0.0, 38.9483333, 0.0, -8.3333333e-4))
    lon, lat = geo.lonlat(0, 0)  # centre of the first pixel, half a step inside the corner
    assert float(lon) == pytest.approx(99.4391667 + 4.16666665e-4) and float(lat) == pytest.approx(38.9483333 - 4.16666665e-4)
    # the grid lies inside GAMMA's own corner listing of the same frame (geo_20211229_20220110.corner)
    corner = (FIX / "ecat" / "geo_20211229_20220110.corner").read_text()
    assert "upper left corner latitude,  longitude (deg.): 38.98  99.45" in corner
    lon_end, lat_end = geo.lonlat(2832, 4003)
    assert 99.45 - 0.02 < float(lon) < float(lon_end) < 102.83 + 0.02 and 36.55 - 0.02 < float(lat_end) < 38.98
    inc = georef_from_header(parse_rsc((FIX / "ecat" / "geo_20220105_20220117.inc.rsc").read_text()), ".rsc", "inc.rsc")
    assert inc.shape == (2300, 2901)
    centre = georef_from_header(meta, ".rsc", "phs.rsc", "centre")
    assert centre.transform[0] == pytest.approx(99.4391667 - 4.16666665e-4)


def test_gamma_par_fields() -> None:
    par = parse_gamma_par((FIX / "ecat" / "20220110.slc.par").read_text())
    assert float(par["heading"]) == pytest.approx(193.2938905)
    assert float(par["incidence_angle"]) == pytest.approx(39.4594)
    assert float(par["radar_frequency"]) == pytest.approx(5.4050005e9)
    assert par["sensor"] == "S1A IW IW1 VV" and par["image_geometry"] == "SLANT_RANGE"
    dem_par = parse_gamma_par("title: x\nwidth: 20\nnlines: 10\ncorner_lat: 38.5 decimal degrees\n"
                              "corner_lon: 99.4 decimal degrees\npost_lat: -0.001 decimal degrees\n"
                              "post_lon: 0.001 decimal degrees\nDEM_projection: EQA\n")
    geo = georef_from_header(dem_par, ".par", "dem_par")  # GAMMA corner = first pixel centre
    assert geo.shape == (10, 20) and geo.transform[0] == pytest.approx(99.4 - 0.0005)
    with pytest.raises(MetadataError, match="dem_par: header field 'corner_lo?n?"):
        georef_from_header({"width": "2", "nlines": "2"}, ".par", "dem_par")


def test_granule_names_tracks_and_burst_ids() -> None:
    g = parse_granule("S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768")
    assert g.start == dt.datetime(2020, 5, 11, 13, 51, 17, tzinfo=UTC) and g.track == 71  # Monte Cristo's track
    b = parse_granule("S1_372326_IW3_20180628T151555_VV_4673-BURST")
    assert (b.subswath, b.burst_id, b.track) == ("IW3", 372326, 174)  # ASF's fullBurstID 174_372326_IW3
    # burst ids of the real SAFE annotations (tests/fixtures/asf/safe): tracks 71 and 108
    assert track_from_burst_id(151204) == 71 and track_from_burst_id(230135) == 108
    assert relative_orbit("S1B", 11575) == 174
    # S1C's offset changed with its 2026 orbit reconfiguration (after absolute orbit 8018)
    assert relative_orbit("S1C", 8018) == (8018 - 172) % 175 + 1 and relative_orbit("S1C", 8019) == (8019 - 99) % 175 + 1
    assert relative_orbit("S1C", 100) == (100 - 172) % 175 + 1 and relative_orbit("S1D", 42) == 1
    with pytest.raises(MetadataError, match="unknown Sentinel-1 unit"):
        relative_orbit("S2A", 1)


def test_hyp3_multi_burst_products() -> None:
    """INSAR_ISCE_MULTI_BURST: the name format and a comma-separated granule list, as MintPy's HyP3 reader
    documents them (its example names are illustrations: their ids and track do not belong together)."""
    from quakesar.external.layouts import hyp3_job_type

    assert hyp3_job_type("S1A_064_E053_1_N27_3_E054_1_N27_8_20200604_20200616_VV_INT80_7EB5") == "hyp3_isce_burst"
    assert hyp3_job_type("S1_136232_IW2_20200604_20200616_VV_INT80_663F") == "hyp3_isce_burst"
    assert hyp3_job_type("S1AA_20240707T100141_20240719T100140_VVR012_INT80_G_ueF_C070") == "hyp3_gamma"
    assert hyp3_job_type("my_interferogram") is None
    txt = ("Reference Granule: S1_290876_IW1_20200604T005150_VV_AB12-BURST, S1_290875_IW1_20200604T005147_VV_CD34-BURST\n"
           "Secondary Granule: S1_290876_IW1_20200616T005150_VV_EF56-BURST, S1_290875_IW1_20200616T005147_VV_GH78-BURST\n"
           "Reference Pass Direction: ASCENDING\nHeading: -12.9\n")
    meta = parse_hyp3(txt, "multi.txt")
    assert meta.job_type == "INSAR_ISCE_BURST" and len(meta.reference) == 2
    assert meta.reference_time == dt.datetime(2020, 6, 4, 0, 51, 47, tzinfo=UTC)  # the earliest burst
    assert meta.track == 136 == track_from_burst_id(290876) and meta.subswath == "IW1"
