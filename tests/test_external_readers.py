"""Readers of external products on rasters built in each product's exact file layout
(tests/external_builders.py: real metadata files, GeoTIFFs written with rasterio, raw float32 +
ROI_PAC headers), compared with the known field that went in.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from external_builders import build_hyp3, build_licsar, build_raw_rsc, write_geotiff
from quakesar.convention import los_to_phase, los_unit_vector, wrap
from quakesar.external.layouts import LayoutError, ProductSpec, find_products, generic_spec
from quakesar.external.metadata import MetadataError
from quakesar.external.readers import read_product

CENTRE = (39.7546, 22.1757)
T1, T2 = dt.datetime(2021, 2, 24, 16, 27, 30), dt.datetime(2021, 3, 8, 16, 27, 31)


def _phase_close(a: np.ndarray, b: np.ndarray, atol: float = 1e-5) -> None:
    np.testing.assert_allclose(wrap(a - b), 0.0, atol=atol)


@pytest.mark.parametrize("cc_uint8", [True, False])
def test_licsar_pair(tmp_path: Path, cc_uint8: bool) -> None:
    truth = build_licsar(tmp_path, "131A_05114_131313", "20210224_20210308", CENTRE, -12.4, rows=40, cols=50,
                         cc_uint8=cc_uint8)
    (spec,) = find_products(tmp_path)
    assert spec.layout == "licsar" and spec.product_id == "131A_05114_131313_20210224_20210308"
    p = read_product(spec)
    inside = np.isfinite(truth.los_m)
    assert (p.valid == inside).all()  # LiCSAR's zero fill at the frame edge is no data
    np.testing.assert_allclose(p.unwrapped[inside], los_to_phase(truth.los_m[inside]), rtol=1e-6, atol=1e-6)
    _phase_close(p.wrapped[inside], los_to_phase(truth.los_m[inside]))
    assert 0.5 <= p.coherence[inside].min() and p.coherence[inside].max() <= 0.86
    np.testing.assert_allclose(p.incidence_deg, truth.incidence_deg, atol=1e-4)
    assert p.heading_deg == pytest.approx(-12.4, abs=1e-4)
    assert (p.track, p.flight_direction, p.subswath) == (131, "ascending", "IW")
    assert p.reference_time == "2021-02-24T04:35:12.512000Z" and p.secondary_time == "2021-03-08T04:35:12.512000Z"
    assert any("255" in c for c in p.conversions) == cc_uint8


def test_licsar_flipped_look_vectors_are_refused(tmp_path: Path) -> None:
    build_licsar(tmp_path, "131A_05114_131313", "20210224_20210308", CENTRE, -12.4, rows=20, cols=20)
    meta = tmp_path / "131A_05114_131313" / "metadata"
    from quakesar.external.raster import read_geotiff

    for name in "EN":  # pointing from the satellite to the ground horizontally: heading off by 180 deg
        arr, geo = read_geotiff(str(meta / f"131A_05114_131313.geo.{name}.tif"))
        write_geotiff(meta / f"131A_05114_131313.geo.{name}.tif", -arr, geo.transform, "EPSG:4326")
    with pytest.raises(MetadataError, match="disagrees with the metadata"):
        read_product(find_products(tmp_path)[0])


@pytest.mark.parametrize("job,zipped", [("gamma", True), ("gamma", False), ("isce_burst", False)])
def test_hyp3_products(tmp_path: Path, job: str, zipped: bool) -> None:
    truth, name = build_hyp3(tmp_path, job, CENTRE, T1, T2, -12.3, rows=30, cols=40, zipped=zipped)
    (spec,) = find_products(tmp_path)
    assert spec.layout == f"hyp3_{job}" and spec.product_id == name
    assert ("!" in spec.files["unwrapped"]) == zipped
    p = read_product(spec)
    assert p.valid.all()
    np.testing.assert_allclose(p.unwrapped, los_to_phase(truth.los_m), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(p.los_displacement, truth.los_m, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(p.incidence_deg, truth.incidence_deg, atol=1e-4)
    assert p.heading_deg == pytest.approx(-12.3, abs=1e-4) and p.flight_direction == "ascending"
    assert p.reference_time == "2021-02-24T16:27:30Z" and p.secondary_time == "2021-03-08T16:27:31Z"
    if job == "gamma":
        assert (p.track, p.subswath, p.looks_range, p.looks_azimuth) == (156, "IW", 4, 20)
    else:
        assert (p.track, p.subswath, p.looks_range, p.looks_azimuth) == (64, "IW2", 20, 4)
    assert "EPSG" in p.georef.crs or "UTM" in p.georef.crs


def test_hyp3_without_look_vectors_uses_the_parameter_file_geometry(tmp_path: Path) -> None:
    build_hyp3(tmp_path, "gamma", CENTRE, T1, T2, -12.3, rows=20, cols=20, look_vectors=False, los_disp=False,
               wrapped=False)
    p = read_product(find_products(tmp_path)[0])
    assert np.ptp(p.incidence_deg) == 0 and 30 < p.incidence_deg[0, 0] < 46
    assert any("whole scene" in c for c in p.conversions) and p.los_displacement is None


def test_hyp3_missing_parameter_file_is_a_layout_error(tmp_path: Path) -> None:
    _, name = build_hyp3(tmp_path, "isce_burst", CENTRE, T1, T2, -167.4, rows=10, cols=10)
    (tmp_path / name / f"{name}.txt").unlink()
    with pytest.raises(LayoutError, match=f"{name}.txt is missing"):
        find_products(tmp_path)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_raw_rsc_grid_in_both_phase_signs(tmp_path: Path, sign: float) -> None:
    truth = build_raw_rsc(tmp_path, "geo_20200511_20200517", (38.1689, -117.8497), -166.2, rows=30, cols=35, sign=sign)
    stem = tmp_path / "geo_20200511_20200517"
    entry = {"layout": "raw", "unwrapped": f"{stem}.phs", "coherence": f"{stem}.cor", "incidence": f"{stem}.inc",
             "heading_deg": -166.2, "reference_time": "2020-05-11T13:51:30Z", "secondary_time": "2020-05-17T13:52:10Z",
             "phase_sign": "range_increase_positive" if sign > 0 else "range_decrease_positive"}
    p = read_product(generic_spec(entry, tmp_path, "external.events.nn00725272[0]"))
    np.testing.assert_allclose(p.unwrapped, los_to_phase(truth.los_m), rtol=1e-5, atol=1e-5)
    assert p.flight_direction == "descending" and p.track == -1
    # the grid: X_FIRST/Y_FIRST are the outer corner, so pixel (0, 0)'s centre is half a step inside
    lon, lat = p.georef.lonlat(0, 0)
    assert float(lon) == pytest.approx(truth.lon[0, 0]) and float(lat) == pytest.approx(truth.lat[0, 0])
    # the wrong sign stated in the config gives the opposite phase: the statement matters
    wrong = dict(entry, phase_sign="range_decrease_positive" if sign > 0 else "range_increase_positive")
    q = read_product(generic_spec(wrong, tmp_path, "x"))
    np.testing.assert_allclose(q.unwrapped, -p.unwrapped)


def test_raw_size_must_match_the_header(tmp_path: Path) -> None:
    build_raw_rsc(tmp_path, "g", CENTRE, -12.0, rows=10, cols=12)
    (tmp_path / "g.phs").write_bytes((tmp_path / "g.phs").read_bytes()[:-4])
    entry = {"layout": "raw", "unwrapped": str(tmp_path / "g.phs"), "incidence": 39.0, "heading_deg": -12.0,
             "phase_sign": "range_increase_positive", "reference_time": "2021-01-01T00:00:00Z",
             "secondary_time": "2021-01-13T00:00:00Z"}
    with pytest.raises(ValueError, match="g.phs: 476 bytes, but header .*g.phs.rsc says 10 x 12"):
        read_product(generic_spec(entry, tmp_path, "x"))


def test_generic_geotiff_with_enu_and_millimetres_away_positive(tmp_path: Path) -> None:
    truth, name = build_hyp3(tmp_path / "src", "gamma", CENTRE, T1, T2, -12.3, rows=20, cols=24)
    from quakesar.external.raster import read_geotiff

    base = tmp_path / "src" / name
    geo = read_geotiff(str(base / f"{name}_corr.tif"))[1]
    enu = los_unit_vector(truth.incidence_deg, -12.3)
    for k, role in enumerate(("east", "north", "up")):
        write_geotiff(tmp_path / f"{role}.tif", enu[..., k], geo.transform, truth.crs)
    write_geotiff(tmp_path / "disp_mm.tif", -truth.los_m * 1000.0, geo.transform, truth.crs)  # away positive, mm
    entry = {"layout": "geotiff", "name": "mygrid", "los_displacement": "disp_mm.tif", "coherence": str(base / f"{name}_corr.tif"),
             "east": "east.tif", "north": "north.tif", "up": "up.tif", "displacement_sign": "away_positive",
             "displacement_units": "mm", "reference_time": "2021-02-24T16:27:30Z", "secondary_time": "2021-03-08T16:27:31Z"}
    spec = generic_spec(entry, tmp_path, "external.events.us7000df40[1]")
    assert spec.product_id == "mygrid"
    p = read_product(ProductSpec.from_json(json.loads(json.dumps(spec.to_json()))))
    np.testing.assert_allclose(p.los_displacement, truth.los_m, rtol=1e-5, atol=1e-7)
    _phase_close(p.phase(), los_to_phase(truth.los_m), atol=1e-4)
    assert p.heading_deg == pytest.approx(-12.3, abs=1e-4) and p.flight_direction == "ascending"


def test_generic_entry_errors_name_the_key(tmp_path: Path) -> None:
    (tmp_path / "u.tif").write_bytes(b"")
    base = {"layout": "geotiff", "unwrapped": "u.tif", "incidence": 39.0, "heading_deg": -12.0,
            "reference_time": "2021-01-01T00:00:00Z", "secondary_time": "2021-01-13T00:00:00Z"}
    with pytest.raises(LayoutError, match=r"ev\[0\]\.phase_sign"):
        generic_spec(base, tmp_path, "ev[0]")
    with pytest.raises(FileNotFoundError, match=r"ev\[0\]\.coherence: .*c.tif does not exist"):
        generic_spec({**base, "phase_sign": "range_increase_positive", "coherence": "c.tif"}, tmp_path, "ev[0]")
    with pytest.raises(LayoutError, match="unknown keys \\['colour'\\]"):
        generic_spec({**base, "colour": 1}, tmp_path, "ev[0]")
    with pytest.raises(LayoutError, match="heading_deg"):
        generic_spec({k: v for k, v in base.items() if k != "heading_deg"} | {"phase_sign": "range_increase_positive"},
                     tmp_path, "ev[0]")


def test_zip_members_are_read_without_unpacking(tmp_path: Path) -> None:
    _, name = build_hyp3(tmp_path, "gamma", CENTRE, T1, T2, -12.3, rows=12, cols=12, zipped=True)
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive) as zf:
        assert f"{name}/{name}_unw_phase.tif" in zf.namelist()
    (spec,) = find_products(archive)
    assert spec.files["parameters"] == f"{archive}!{name}/{name}.txt"
    assert read_product(spec).valid.all()
    assert not (tmp_path / name).exists()


def test_multi_band_rasters_need_the_band_named(tmp_path: Path) -> None:
    """ISCE2's geocoded unwrapped file has amplitude in band 1 and phase in band 2: never guess."""
    import rasterio
    from rasterio.transform import Affine

    phase = np.linspace(-3, 3, 48).reshape(6, 8)
    with rasterio.open(tmp_path / "filt_topophase.unw.geo.tif", "w", driver="GTiff", height=6, width=8, count=2,
                       dtype="float32", crs="EPSG:4326", transform=Affine(0.001, 0, 22.0, 0, -0.001, 39.8)) as ds:
        ds.write(np.full((6, 8), 5.0, np.float32), 1)
        ds.write(phase.astype(np.float32), 2)
    entry = {"layout": "geotiff", "unwrapped": "filt_topophase.unw.geo.tif", "incidence": 39.0, "heading_deg": -12.0,
             "phase_sign": "range_increase_positive", "reference_time": "2021-02-24T16:27:30Z",
             "secondary_time": "2021-03-08T16:27:31Z"}
    with pytest.raises(ValueError, match="2 bands; say which one"):
        read_product(generic_spec(entry, tmp_path, "x"))
    p = read_product(generic_spec({**entry, "bands": {"unwrapped": 2}}, tmp_path, "x"))
    np.testing.assert_allclose(p.unwrapped, phase, atol=1e-6)
    with pytest.raises(LayoutError, match="bands"):
        generic_spec({**entry, "bands": {"coherence": 1}}, tmp_path, "x")


def test_licsar_look_vectors_on_the_whole_frame_grid(tmp_path: Path) -> None:
    """LiCSAR's E/N/U cover the frame; an interferogram clipped to a sub-area is on a smaller grid:
    the vectors are sampled at its pixels (a grid of another CRS would still be refused)."""
    truth = build_licsar(tmp_path, "131A_05114_131313", "20210224_20210308", CENTRE, -12.4, rows=40, cols=50)
    from quakesar.external.raster import read_geotiff

    pair_dir = tmp_path / "131A_05114_131313" / "interferograms" / "20210224_20210308"
    for name in ("unw", "diff_pha", "cc"):  # clip the pair to rows 5..34, cols 7..41
        path = pair_dir / f"20210224_20210308.geo.{name}.tif"
        arr, geo = read_geotiff(str(path))
        t = geo.transform
        clipped = (t[0] + 7 * t[1], t[1], 0.0, t[3] + 5 * t[5], 0.0, t[5])
        write_geotiff(path, np.nan_to_num(arr[5:35, 7:42]), clipped, "EPSG:4326", dtype="uint8" if name == "cc" else "float32")
    p = read_product(find_products(tmp_path)[0])
    assert p.shape == (30, 35)
    np.testing.assert_allclose(p.incidence_deg, truth.incidence_deg[5:35, 7:42], atol=1e-4)
    assert any("grid of its own" in c for c in p.conversions)


def test_satellite_to_ground_vectors_need_saying_so(tmp_path: Path) -> None:
    """Vectors pointing from the satellite to the ground (FLATSIM's CosENU convention) are refused
    unless the entry says vector_direction: satellite_to_ground, then negated."""
    truth, name = build_hyp3(tmp_path / "src", "gamma", CENTRE, T1, T2, -167.6, rows=12, cols=14)
    from quakesar.external.raster import read_geotiff

    geo = read_geotiff(str(tmp_path / "src" / name / f"{name}_corr.tif"))[1]
    enu = -los_unit_vector(truth.incidence_deg, -167.6)
    for k, role in enumerate(("east", "north", "up")):
        write_geotiff(tmp_path / f"{role}.tif", enu[..., k], geo.transform, truth.crs)
    entry = {"layout": "geotiff", "unwrapped": str(tmp_path / "src" / name / f"{name}_unw_phase.tif"),
             "east": "east.tif", "north": "north.tif", "up": "up.tif", "phase_sign": "range_increase_positive",
             "reference_time": "2021-02-24T16:27:30Z", "secondary_time": "2021-03-08T16:27:31Z"}
    with pytest.raises(MetadataError, match="point down.*vector_direction: satellite_to_ground"):
        read_product(generic_spec(entry, tmp_path, "x"))
    p = read_product(generic_spec({**entry, "vector_direction": "satellite_to_ground"}, tmp_path, "x"))
    assert p.heading_deg == pytest.approx(-167.6, abs=1e-4) and p.flight_direction == "descending"
    np.testing.assert_allclose(p.incidence_deg, truth.incidence_deg, atol=1e-4)
