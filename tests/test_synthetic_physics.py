"""Physics of the synthetic source: Okada 1985, scaling laws, fault placement, troposphere spectrum,
decorrelation statistics and the Sentinel-1 geometry (no scene files; fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from pathlib import Path

from quakesar import convention
from quakesar.synthetic import atmosphere, decorrelation, scaling, s1geometry
from quakesar.synthetic.mechanism import draw_fault
from quakesar.synthetic.okada import okada85, okada_enu
from quakesar.synthetic.scene import DEFAULTS, fill_defaults

# Okada (1985) Table 2; values as listed in docs/physics-reference (Beauducel checklist, Hdef tests).
CASE2 = {  # x=2, y=3, d=4, dip=70, L=3, W=2, nu=0.25
    "u1": (-8.689e-3, -4.298e-3, -2.747e-3),
    "u2": (-4.682e-3, -3.527e-2, -3.564e-2),
    "u3": (-2.660e-4, 1.056e-2, 3.214e-3),
}
CASE3 = {"u1": (0.0, 5.253e-3, 0.0), "u3": (1.223e-2, 0.0, -1.606e-2)}  # x=y=0, dip=90


@pytest.mark.parametrize("slip", ["u1", "u2", "u3"])
def test_okada_table2_case2(slip: str) -> None:
    got = okada85(2.0, 3.0, 4.0, 70.0, 3.0, 2.0, nu=0.25, **{slip: 1.0})
    np.testing.assert_allclose([float(v) for v in got], CASE2[slip], rtol=1.5e-3, atol=2e-6)


@pytest.mark.parametrize("slip", ["u1", "u3"])
def test_okada_table2_case3_vertical_fault(slip: str) -> None:
    got = okada85(0.0, 0.0, 4.0, 90.0, 3.0, 2.0, nu=0.25, **{slip: 1.0})
    np.testing.assert_allclose([float(v) for v in got], CASE3[slip], rtol=1.5e-3, atol=2e-6)


def test_okada_singular_points_are_finite_and_continuous() -> None:
    """On the extension of the edges (R + eta = 0, q = 0, xi = 0) the result is finite and matches its
    neighbourhood (Okada 1992 guards)."""
    # a fault reaching the surface (d = W sin(dip)) observed on its trace line and at its corners
    pts_x = np.array([0.0, 1.5, 3.0, -1.0, 4.0, 0.0])
    pts_y = np.array([2.0 * math.cos(math.radians(60)), 2.0 * math.cos(math.radians(60)), 0.0, 0.0, 0.0, 0.0])
    for dip in (60.0, 90.0):
        d = 2.0 * math.sin(math.radians(dip))
        out = okada85(pts_x, pts_y, d, dip, 3.0, 2.0, u1=1.0, u2=1.0, u3=1.0)
        assert all(np.all(np.isfinite(c)) for c in out)
    # continuity across the vertical-fault special case
    a = okada85(2.0, 3.0, 4.0, 90.0, 3.0, 2.0, u1=1.0, u2=1.0, u3=1.0)
    b = okada85(2.0, 3.0, 4.0, 89.999, 3.0, 2.0, u1=1.0, u2=1.0, u3=1.0)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_okada_enu_rotation_matches_okada_frame() -> None:
    """okada_enu places the centroid and rotates strike correctly: strike 90 (x east, y north)."""
    L, W, dip, depth_c = 3.0, 2.0, 70.0, 3.0
    e, n = np.array([2.5, -1.0]), np.array([1.0, 0.5])
    ue, un, uz = okada_enu(e, n, centroid_east=0.0, centroid_north=0.0, centroid_depth=depth_c, strike_deg=90.0,
                           dip_deg=dip, length=L, width=W, strike_slip=1.0, dip_slip=0.5)
    x = e + L / 2
    y = n + W / 2 * math.cos(math.radians(dip))
    ux, uy, uz2 = okada85(x, y, depth_c + W / 2 * math.sin(math.radians(dip)), dip, L, W, u1=1.0, u2=0.5)
    np.testing.assert_allclose(ue, ux, atol=1e-12)
    np.testing.assert_allclose(un, uy, atol=1e-12)
    np.testing.assert_allclose(uz, uz2, atol=1e-12)


def test_thrust_uplifts_hanging_wall_and_normal_subsides() -> None:
    e, n = np.meshgrid(np.linspace(-30e3, 30e3, 121), np.linspace(-30e3, 30e3, 121))
    common = dict(centroid_east=0.0, centroid_north=0.0, centroid_depth=6e3, strike_deg=0.0, dip_deg=30.0,
                  length=10e3, width=8e3)
    _, _, up_thrust = okada_enu(e, n, dip_slip=1.0, **common)
    _, _, up_normal = okada_enu(e, n, dip_slip=-1.0, **common)
    assert up_thrust.max() > abs(up_thrust.min())
    # strike 0 dips east: max uplift lies over the hanging wall, between the surface projections of the
    # top edge (e = -W/2 cos(dip)) and of the bottom edge (e = +W/2 cos(dip))
    half = 4e3 * math.cos(math.radians(30.0))
    assert -half < e.ravel()[np.argmax(up_thrust)] < half
    np.testing.assert_allclose(up_normal, -up_thrust, atol=1e-12)


def test_scaling_laws() -> None:
    """Hanks & Kanamori and Wells & Coppersmith (1994) values, and M0 = mu L W D."""
    assert scaling.moment_from_mw(6.0) == pytest.approx(10 ** 18.1, rel=1e-12)
    assert scaling.mw_from_moment(scaling.moment_from_mw(6.7)) == pytest.approx(6.7)
    assert scaling.rupture_length_m(7.0, "strike-slip") == pytest.approx(1000 * 10 ** 1.77, rel=1e-9)   # 58.9 km
    assert scaling.rupture_length_m(6.5, "thrust") == pytest.approx(1000 * 10 ** 1.35, rel=1e-9)        # 22.4 km
    assert scaling.rupture_length_m(6.0, "normal") == pytest.approx(1000 * 10 ** 1.12, rel=1e-9)        # 13.2 km
    assert scaling.rupture_width_m(6.0, "strike-slip") == pytest.approx(1000 * 10 ** 0.86, rel=1e-9)    # 7.2 km
    assert scaling.rupture_width_m(6.5, "thrust") == pytest.approx(1000 * 10 ** 1.055, rel=1e-9)
    assert scaling.rupture_width_m(6.0, "normal") == pytest.approx(1000 * 10 ** 0.96, rel=1e-9)
    slip = scaling.uniform_slip_m(6.0, 14_125.4, 7_244.4, 3.0e10)
    assert slip == pytest.approx(0.410, abs=0.002)
    with pytest.raises(ValueError, match="mw"):
        scaling.event_mw({"magnitude": 6.0})
    with pytest.raises(ValueError, match="'mw'"):
        scaling.event_mw({"mw": "six"})


def _event(**kw: object) -> dict:
    ev = {"id": "t1", "time": "2021-03-03T10:16:08Z", "latitude": 39.7, "longitude": 22.2, "depth_km": 8.0,
          "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3}
    ev.update(kw)
    return ev


@pytest.mark.parametrize("mech,dip_range,rake_centres", [
    ("thrust", (15, 45), (90,)), ("normal", (35, 65), (-90,)), ("strike-slip", (75, 90), (0, 180, -180))])
def test_mechanism_draws(mech: str, dip_range: tuple, rake_centres: tuple) -> None:
    for i in range(20):
        f = draw_fault(_event(), fill_defaults({"mechanism": mech}), np.random.default_rng(i))
        assert f.mechanism == mech
        assert dip_range[0] <= f.dip_deg <= dip_range[1]
        assert min(abs(f.rake_deg - c) for c in rake_centres) <= 20.0
        assert 0.0 <= f.strike_deg < 360.0
        assert f.moment_nm == pytest.approx(f.shear_modulus_pa * f.length_m * f.width_m * f.slip_m)


def test_fault_top_never_above_surface_and_hypocentre_on_plane() -> None:
    for i in range(30):
        f = draw_fault(_event(depth_km=1.0, mw=7.0), fill_defaults({}), np.random.default_rng(i))
        assert f.top_depth_m >= 0.0
        assert f.bottom_depth_m - f.top_depth_m == pytest.approx(f.width_m * math.sin(math.radians(f.dip_deg)))
        # hypocentre (0, 0, depth) lies on the fault plane: distance from the plane through the centroid is 0
        s, d = math.radians(f.strike_deg), math.radians(f.dip_deg)
        normal = np.array([math.cos(s) * math.sin(d), -math.sin(s) * math.sin(d), -math.cos(d)])  # (E, N, depth)
        vec = np.array([0.0 - f.centroid_east_m, 0.0 - f.centroid_north_m, f.hypocentre_depth_m - f.centroid_depth_m])
        assert abs(vec @ normal) < 1e-6 * f.width_m
    shallow = draw_fault(_event(depth_km=0.5, mw=7.0), fill_defaults({}), np.random.default_rng(0))
    assert shallow.top_depth_m == 0.0 and shallow.downdip_shift_m > 0.0


def test_fixed_mechanism_from_config() -> None:
    f = draw_fault(_event(), fill_defaults({"mechanism": "thrust", "strike_deg": 400.0, "dip_deg": 25.0,
                                            "rake_deg": 80.0}), np.random.default_rng(0))
    assert (f.strike_deg, f.dip_deg, f.rake_deg) == (40.0, 25.0, 80.0)
    with pytest.raises(ValueError, match="depth_km"):
        draw_fault(_event(depth_km=None), fill_defaults({}), np.random.default_rng(0))


def test_los_sign_uplift_positive_for_both_passes() -> None:
    """Pure uplift is motion towards the satellite (positive LOS) on ascending and descending passes and
    gives a negative interferometric phase (quakesar.convention)."""
    for heading in (convention.HEADING_ASCENDING_DEG, convention.HEADING_DESCENDING_DEG):
        for inc in (30.6, 46.0):
            los = convention.enu_to_los(0.0, 0.0, 0.05, inc, heading)
            assert los > 0
            assert convention.los_to_phase(los) < 0
            assert convention.phase_to_los(convention.los_to_phase(los)) == pytest.approx(los)


def test_turbulence_spectral_slopes() -> None:
    """1-D profile spectra of the simulated turbulent delay: slope -8/3 below 1.5 km, -5/3 from 1.5 to 50 km."""
    spacing = 50.0
    field = atmosphere.turbulent_delay((256, 4096), spacing, 0.01, np.random.default_rng(3))
    assert field.std() == pytest.approx(0.01, rel=1e-4)
    spec = np.mean(np.abs(np.fft.rfft(field - field.mean(axis=1, keepdims=True), axis=1)) ** 2, axis=0)
    k = np.fft.rfftfreq(field.shape[1], d=spacing)

    def slope(lo_m: float, hi_m: float) -> float:
        sel = (k >= 1.0 / hi_m) & (k <= 1.0 / lo_m)
        return float(np.polyfit(np.log(k[sel]), np.log(spec[sel]), 1)[0])

    assert slope(250.0, 1000.0) == pytest.approx(-8.0 / 3.0, abs=0.25)
    assert slope(3000.0, 40000.0) == pytest.approx(-5.0 / 3.0, abs=0.25)


@pytest.mark.parametrize("gamma", [0.5, 0.7, 0.9])
def test_phase_std_matches_cramer_rao(gamma: float) -> None:
    """L-look phase of the exact correlated pair has the Cramér-Rao standard deviation (within 12 %)."""
    looks = 64
    z1, z2 = decorrelation.correlated_pair(np.full((4000, looks), gamma, np.float32), np.random.default_rng(7))
    phase = np.angle(np.mean(z1 * np.conj(z2), axis=1))
    expected = float(decorrelation.cramer_rao_phase_std(gamma, looks))
    assert np.std(phase) == pytest.approx(expected, rel=0.12)
    # and the sample coherence of a big sample is gamma
    assert abs(np.mean(z1 * np.conj(z2))) == pytest.approx(gamma, abs=0.01)


def test_band_limited_speckle_unit_power_coherence_and_shift() -> None:
    """The scene's speckle: unit power, coherence gamma with the decorrelated part, and the shifted copy
    displaced by exactly the requested sub-pixel offset (cross-spectrum phase slope)."""
    sp = decorrelation.BandLimitedSpeckle(2048, 128, 1.33, 1.49, lambda b: np.random.default_rng(1000 + b))
    dr, dc = 0.2, -0.27
    u, us = sp.field(0, 128, [(0.0, 0.0), (dr, dc)])
    assert np.mean(np.abs(u) ** 2) == pytest.approx(1.0, abs=0.03)
    # range shift: phase slope of the cross spectrum of the lines
    f = np.fft.fftfreq(2048)
    cross = np.mean(np.fft.fft(us, axis=1) * np.conj(np.fft.fft(u, axis=1)), axis=0)
    band = np.abs(f) < 0.3
    est_dc = -np.polyfit(2 * np.pi * f[band], np.unwrap(np.angle(cross[band])), 1)[0]
    assert est_dc == pytest.approx(dc, abs=0.02)
    fa = np.fft.fftfreq(128)
    cross_a = np.mean(np.fft.fft(us, axis=0) * np.conj(np.fft.fft(u, axis=0)), axis=1)
    band_a = np.abs(fa) < 0.25
    est_dr = -np.polyfit(2 * np.pi * fa[band_a], np.unwrap(np.angle(cross_a[band_a])), 1)[0]
    assert est_dr == pytest.approx(dr, abs=0.05)
    # the scene's decorrelated secondary gamma*u + sqrt(1 - gamma^2)*v has coherence gamma with u
    sv = decorrelation.BandLimitedSpeckle(2048, 128, 1.33, 1.49, lambda b: np.random.default_rng(5000 + b))
    (v,) = sv.field(0, 128, [(0.0, 0.0)])
    for gamma in (0.3, 0.8):
        z2 = gamma * u + math.sqrt(1 - gamma**2) * v
        coh = abs(np.mean(u * np.conj(z2))) / math.sqrt(np.mean(abs(u) ** 2) * np.mean(abs(z2) ** 2))
        assert coh == pytest.approx(gamma, abs=0.02)
    # blocks are seamless: adjacent lines across the block boundary are as correlated as inside a block
    (u1,) = sp.field(1, 128, [(0.0, 0.0)])
    across = np.mean(u[-1] * np.conj(u1[0])).real
    inside = np.mean([np.mean(u[i] * np.conj(u[i + 1])).real for i in range(100, 127)])
    assert across == pytest.approx(inside, abs=0.08) and inside > 0.3
    # and a block does not depend on the order in which blocks are asked for
    sp2 = decorrelation.BandLimitedSpeckle(2048, 128, 1.33, 1.49, lambda b: np.random.default_rng(1000 + b))
    (u1_first,) = sp2.field(1, 128, [(0.0, 0.0)])
    (u1_again,) = sp.field(1, 128, [(0.0, 0.0)])
    np.testing.assert_array_equal(u1_first, u1_again)


def test_coherence_components() -> None:
    assert decorrelation.temporal_coherence(0, np.array(0.2), np.array(10.0)) == pytest.approx(1.0)
    assert decorrelation.temporal_coherence(1e6, np.array(0.2), np.array(10.0)) == pytest.approx(0.2)
    crit = decorrelation.critical_baseline_m(np.array(850e3), np.array(39.0), 48.3e6)
    assert 5000 < float(crit) < 7500      # physics-reference section 3: 5.8-7.1 km
    assert float(decorrelation.geometric_coherence(np.array(150.0), crit)) > 0.97


def test_subswath_geometry_full_and_reduced() -> None:
    for iw, (near, far, _) in s1geometry.SUBSWATHS.items():
        full = s1geometry.SubswathGrid.build(iw, 1)
        assert full.lines == 13_500
        assert 21_000 <= full.samples <= 25_700
        assert full.range_spacing_m == pytest.approx(2.329562, abs=1e-5)
        assert 13.5 < full.azimuth_spacing_m < 14.5
        inc = s1geometry.incidence_from_ground(full.ground_range(np.array([0, full.samples - 1])))
        np.testing.assert_allclose(inc, [near, far], atol=0.01)
        red = s1geometry.SubswathGrid.build(iw, 8)
        assert red.lines == round(13_500 / 8) and red.samples == round(full.samples / 8)
        assert red.range_spacing_m == pytest.approx(8 * full.range_spacing_m)
        assert red.azimuth_spacing_m == pytest.approx(8 * full.azimuth_spacing_m)
    g = np.array([4.0e5, 5.0e5])
    np.testing.assert_allclose(s1geometry.ground_from_slant_range(s1geometry.slant_range_from_ground(g)), g, rtol=1e-12)


def test_defaults_match_schema() -> None:
    schema = yaml.safe_load((Path(__file__).parents[1] / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["simulate"]["properties"]
    assert {k: v.get("default") for k, v in props.items()} == DEFAULTS
    with pytest.raises(ValueError, match="unknown"):
        fill_defaults({"reducton": 4})


def test_land_mask_band_reader_matches_global_land_mask() -> None:
    """The band reader gives global_land_mask's own answers (random points over the Aegean coasts)."""
    from global_land_mask import globe

    from quakesar.synthetic import landmask

    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(37.0, 40.0, 5000), rng.uniform(21.0, 26.0, 5000)
    ours = landmask.is_land(lat, lon)
    np.testing.assert_array_equal(ours, globe.is_land(lat, lon))
    assert 0.2 < ours.mean() < 0.8
    assert landmask.is_land(np.array([41.9]), np.array([12.5]))[0]          # Rome
    assert not landmask.is_land(np.array([40.0]), np.array([-140.0]))[0]    # Pacific


def test_tie_point_geolocation_accuracy_full_resolution() -> None:
    """The scene's tie-point grids reproduce the exact pixel geolocation to well under a full-resolution
    range pixel (about 4 m on the ground), at mid and high latitude."""
    from quakesar.geodesy import haversine_m
    from quakesar.synthetic.scene import TIE_COLS, TIE_ROWS, _tie_nodes
    from quakesar.tiepoints import TiePointGrid

    grid = s1geometry.SubswathGrid.build("IW2", 1)
    tr, tc = _tie_nodes(grid.lines, TIE_ROWS), _tie_nodes(grid.samples, TIE_COLS)
    rng = np.random.default_rng(0)
    r, c = rng.uniform(0, grid.lines - 1, 2000), rng.uniform(0, grid.samples - 1, 2000)
    for lat0, heading in ((39.7, -12.0), (65.0, -168.0)):
        frame = s1geometry.Frame(lat0, 179.5, heading, 90_000.0, 480_000.0)   # crosses the antimeridian
        la, lo = frame.latlon(grid.along_track(tr)[:, None], grid.ground_range(tc)[None, :])
        lat_g, lon_g = TiePointGrid(tr, tc, la), TiePointGrid(tr, tc, lo, is_longitude=True)
        exact_lat, exact_lon = frame.latlon(grid.along_track(r), grid.ground_range(c))
        err = haversine_m(exact_lat, exact_lon, lat_g.at(r, c), lon_g.at(r, c))
        assert err.max() < 1.5
