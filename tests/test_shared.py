"""Shared modules: geodesy against pyproj's WGS84 geodesic, the sign convention, tie-point grids, atomic writes."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest
from pyproj import Geod

from quakesar import convention as cv
from quakesar import geodesy
from quakesar.atomic import atomic_path, write_if_changed
from quakesar.rng import derived_seed, event_rng
from quakesar.tiepoints import TiePointGrid

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat1, lon1, lat2, lon2", [(39.75, 22.17, 39.2, 22.9), (38.17, -117.85, 38.9, -117.0),
                                                    (-33.0, 179.8, -33.4, -179.6), (60.0, 10.0, 61.5, 12.0)])
def test_haversine_and_bearing_agree_with_wgs84_geodesic(lat1, lon1, lat2, lon2):
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    assert geodesy.haversine_m(lat1, lon1, lat2, lon2) == pytest.approx(dist, rel=3e-3)
    assert (geodesy.initial_bearing_deg(lat1, lon1, lat2, lon2) - az % 360 + 180) % 360 - 180 == pytest.approx(0, abs=0.3)


def test_offset_roundtrip_and_antimeridian():
    lat0, lon0 = 38.0, 179.9
    e, n = geodesy.east_north_offset_m(lat0, lon0, 38.3, -179.7)
    assert e > 0 and n > 0
    lat, lon = geodesy.offset_to_latlon(lat0, lon0, e, n)
    assert lat == pytest.approx(38.3, abs=1e-9) and lon == pytest.approx(-179.7, abs=1e-9)


def test_los_sign_uplift_positive_both_passes_and_phase_roundtrip():
    for heading in (cv.HEADING_ASCENDING_DEG, cv.HEADING_DESCENDING_DEG):
        assert cv.enu_to_los(0.0, 0.0, 0.1, 39.0, heading) > 0
    # ascending right-looking satellite looks east: eastward motion moves away from it
    assert cv.enu_to_los(0.1, 0.0, 0.0, 39.0, cv.HEADING_ASCENDING_DEG) < 0
    assert cv.enu_to_los(0.1, 0.0, 0.0, 39.0, cv.HEADING_DESCENDING_DEG) > 0
    v = cv.los_unit_vector(39.0, -12.0)
    assert np.allclose(v, [-0.616, -0.131, 0.777], atol=2e-3) and np.linalg.norm(v) == pytest.approx(1.0)
    d = np.linspace(-0.05, 0.05, 11)
    assert np.allclose(cv.phase_to_los(cv.los_to_phase(d)), d)
    assert cv.WAVELENGTH_M == pytest.approx(0.0554658, abs=1e-7)


def test_interferogram_of_slc_phase_model_gives_convention_sign():
    """z = ref * conj(sec) of SLCs whose range shrank by d gives phase -4 pi d / lambda."""
    r1, d = 850_000.0, 0.004
    ref = np.exp(1j * cv.slc_phase(r1))
    sec = np.exp(1j * cv.slc_phase(r1 - d))
    assert np.angle(ref * np.conj(sec)) == pytest.approx(cv.wrap(cv.los_to_phase(d)))


def test_tiepoint_grid_bilinear_exact_for_planes_and_hdf5_roundtrip(tmp_path):
    rows, cols = np.array([0.0, 50.0, 100.0]), np.array([0.0, 40.0, 80.0, 120.0])
    plane = 10 + 0.01 * rows[:, None] - 0.02 * cols[None, :]
    g = TiePointGrid(rows, cols, plane)
    r, c = np.array([3.5, 77.0, 100.0]), np.array([1.0, 119.0, 60.5])
    assert np.allclose(g.at(r, c), 10 + 0.01 * r - 0.02 * c)
    with h5py.File(tmp_path / "g.h5", "w") as f:
        g.write(f, "latitude")
    with h5py.File(tmp_path / "g.h5", "r") as f:
        back = TiePointGrid.read(f, "latitude")
    assert np.allclose(back.values, plane)
    ml = g.resampled(4, 1, 1.5, 0.0)
    assert ml.at(10.0, 7.0) == pytest.approx(g.at(10 * 4 + 1.5, 7.0))


def test_tiepoint_longitude_across_antimeridian():
    g = TiePointGrid(np.array([0.0, 10.0]), np.array([0.0, 10.0]), np.array([[179.0, -179.0], [179.0, -179.0]]), is_longitude=True)
    assert abs(g.at(5.0, 5.0)) == pytest.approx(180.0)
    assert g.at(0.0, 2.5) == pytest.approx(179.5)


def test_atomic_path_leaves_target_untouched_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_if_changed_keeps_mtime(tmp_path):
    p = tmp_path / "r.json"
    assert write_if_changed(p, "a")
    t0 = p.stat().st_mtime_ns
    os.utime(p, ns=(t0 - 10**9, t0 - 10**9))
    assert not write_if_changed(p, "a")
    assert p.stat().st_mtime_ns == t0 - 10**9
    assert write_if_changed(p, "b") and p.read_text() == "b"


def test_event_rng_is_deterministic_and_separated():
    a = event_rng(1, "us7000df40", "speckle").normal(size=3)
    assert np.array_equal(a, event_rng(1, "us7000df40", "speckle").normal(size=3))
    assert not np.array_equal(a, event_rng(1, "us7000df40", "atmosphere").normal(size=3))
    assert not np.array_equal(a, event_rng(2, "us7000df40", "speckle").normal(size=3))
    assert derived_seed(1, "x") == derived_seed(1, "x") != derived_seed(1, "y")


def test_atomic_outputs_get_umask_permissions(tmp_path):
    from quakesar.atomic import write_text

    write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_tiepoint_raster_equals_pointwise_interpolation():
    rng = np.random.default_rng(0)
    g = TiePointGrid(np.array([0.0, 7.0, 20.0, 31.0]), np.array([0.0, 5.0, 13.0]), rng.normal(size=(4, 3)))
    block = g.raster(slice(-2, 35), slice(-3, 16))
    rr, cc = np.meshgrid(np.arange(-2, 35), np.arange(-3, 16), indexing="ij")
    assert np.allclose(block, g.at(rr, cc))
    lon = TiePointGrid(np.array([0.0, 10.0]), np.array([0.0, 10.0]), np.array([[179.0, -179.0], [179.5, -178.5]]), is_longitude=True)
    assert np.allclose(lon.raster(slice(0, 11), slice(0, 11)), lon.at(*np.meshgrid(np.arange(11.0), np.arange(11.0), indexing="ij")))
