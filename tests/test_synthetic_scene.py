"""Scene files of the synthetic source: layout and documentation, sign of the simulated phase, removal
of the reference phase from the file's geometry, truth vs an independent Okada evaluation, the
recorded misregistration, reproducibility, an epicentre outside every subswath, a real DEM, the CLI.

Scenes use reduction 64 (211 x 400 pixels per subswath) or 32 where the test needs more pixels."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from quakesar import convention
from quakesar.geodesy import east_north_offset_m, haversine_m
from quakesar.synthetic.scene import FIELD_DESCRIPTIONS, plan_pair, simulate_event, write_subswath
from quakesar.synthetic.s1geometry import Frame
from quakesar.tiepoints import TiePointGrid

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "tests/fixtures/synthetic"
EVENT = {"id": "us7000df40", "time": "2021-03-03T10:16:08.000Z", "latitude": 39.73, "longitude": 22.21,
         "depth_km": 8.0, "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3, "place": "Thessaly"}
TINY = {"reduction": 64, "subswaths": ["IW2"], "placement": "centred"}
QUIET = {**TINY, "turbulence_std_m": [0.0, 0.0], "stratified_std_m_per_km": 0.0, "orbital_ramp_m_per_100km": 0.0,
         "misregistration_max_px": 0.0, "temporal_baseline_days": [6]}


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def default_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scene")
    simulate_event(EVENT, TINY, 11, {"IW2": out / "IW2.h5"}, {"IW2": out / "IW2.png"})
    return out


def _all_fields(f: h5py.File) -> set[str]:
    names: set[str] = {f"@{k}" for k in f.attrs}

    def visit(name: str, obj: object) -> None:
        names.add(name)
        if isinstance(obj, h5py.Group):
            names.update(f"{name}@{k}" for k in obj.attrs)

    f.visititems(visit)
    return names


def test_layout_and_every_field_documented(default_scene: Path) -> None:
    """The architecture's contract is present, and every dataset/attribute is described in the file's
    field_descriptions and in docs/synthetic.md."""
    with h5py.File(default_scene / "IW2.h5") as f:
        assert f["reference"].dtype == np.complex64 and f["secondary"].dtype == np.complex64
        lines, samples = f["reference"].shape
        assert (lines, samples) == (211, 400)
        assert f["reference"].chunks[1] == samples
        assert f["geometry/height"].shape == (lines, samples) and f["geometry/height"].dtype == np.float32
        assert f["truth/los_displacement"].shape == (lines, samples)
        assert f["geometry/slant_range_m"].shape == (samples,) and f["geometry/azimuth_time_s"].shape == (lines,)
        for name in ("latitude", "longitude", "incidence", "bperp_m"):
            assert "tie_rows" in f["geometry"][name].attrs
        required_root = ("event_id subswath flight_direction heading_deg track wavelength_m range_pixel_spacing_m "
                         "azimuth_pixel_spacing_m near_range_m reference_time secondary_time bperp_m "
                         "temporal_baseline_days mode reduction seed misregistration_rows misregistration_cols "
                         "epicentre_in_subswath epicentre_row epicentre_col scene_id field_descriptions").split()
        assert set(required_root) <= set(f.attrs)
        required_truth = ("mw magnitude magnitude_type strike_deg dip_deg rake_deg length_m width_m slip_m "
                          "centroid_lat centroid_lon centroid_depth_m top_depth_m shear_modulus_pa poisson_ratio "
                          "mechanism peak_abs_los_m detectable detectability_threshold_m").split()
        assert set(required_truth) <= set(f["truth"].attrs)
        described = json.loads(f.attrs["field_descriptions"])
        fields = {n for n in _all_fields(f) if not re.match(r"geometry/\w+@", n)}
        assert fields <= set(described), sorted(fields - set(described))
        assert f.attrs["reference_time"] < f.attrs["secondary_time"]
        assert f.attrs["temporal_baseline_days"] in (6, 12)
        assert abs(f.attrs["bperp_m"]) <= 150.0 * 1.2
        assert f.attrs["epicentre_in_subswath"]
        assert f["truth"].attrs["detectable"] == (f["truth"].attrs["peak_abs_los_m"] > 0.01)
        assert f["truth"].attrs["peak_abs_los_m"] == pytest.approx(np.abs(f["truth/los_displacement"][()]).max())
    doc = (ROOT / "docs/synthetic.md").read_text(encoding="utf-8")
    missing = [k for k in FIELD_DESCRIPTIONS if f"`{k.split('@')[-1]}`" not in doc]
    assert not missing, missing
    assert (default_scene / "IW2.png").stat().st_size > 10_000


def test_reproducible_bytes_and_seed_dependence(default_scene: Path, tmp_path: Path) -> None:
    simulate_event(EVENT, TINY, 11, {"IW2": tmp_path / "a.h5"})
    assert _md5(tmp_path / "a.h5") == _md5(default_scene / "IW2.h5")
    simulate_event(EVENT, TINY, 11, {"IW2": tmp_path / "t.h5"}, threads=3)  # helper threads: same bytes
    assert _md5(tmp_path / "t.h5") == _md5(default_scene / "IW2.h5")
    simulate_event(EVENT, TINY, 12, {"IW2": tmp_path / "b.h5"})
    assert _md5(tmp_path / "b.h5") != _md5(default_scene / "IW2.h5")
    # the requested subswaths do not change a subswath's bytes (the pair is planned for the whole frame)
    simulate_event(EVENT, {**TINY, "subswaths": ["IW1", "IW2"]}, 11, {"IW1": tmp_path / "c1.h5", "IW2": tmp_path / "c2.h5"})
    assert _md5(tmp_path / "c2.h5") == _md5(default_scene / "IW2.h5")
    with h5py.File(tmp_path / "c1.h5") as f1, h5py.File(tmp_path / "c2.h5") as f2:
        for key in ("scene_id", "reference_time", "secondary_time", "track", "flight_direction", "temporal_baseline_days"):
            assert f1.attrs[key] == f2.attrs[key]


def test_geolocation_and_epicentre(default_scene: Path) -> None:
    """Tie-point latitude/longitude put the recorded epicentre pixel on the catalog epicentre, and the
    grid is right-looking: samples increase away from the track (east for ascending, west for descending)."""
    with h5py.File(default_scene / "IW2.h5") as f:
        lat = TiePointGrid.read(f["geometry"], "latitude")
        lon = TiePointGrid.read(f["geometry"], "longitude")
        r, c = f.attrs["epicentre_row"], f.attrs["epicentre_col"]
        d = haversine_m(EVENT["latitude"], EVENT["longitude"], lat.at(r, c), lon.at(r, c))
        assert d < 0.5 * f.attrs["range_pixel_spacing_m"]
        e0, _ = east_north_offset_m(EVENT["latitude"], EVENT["longitude"], lat.at(r, 0), lon.at(r, 0))
        last = f["reference"].shape[1] - 1
        e1, _ = east_north_offset_m(EVENT["latitude"], EVENT["longitude"], lat.at(r, last), lon.at(r, last))
        _, n0 = east_north_offset_m(EVENT["latitude"], EVENT["longitude"], lat.at(0, c), lon.at(0, c))
        if f.attrs["flight_direction"] == "ascending":
            assert e1 > e0 and n0 < 0      # looking east, flying north
        else:
            assert e1 < e0 and n0 > 0
        inc = TiePointGrid.read(f["geometry"], "incidence")
        assert 36.1 < inc.at(0, 0) < 36.3 and 41.8 < inc.at(0, last) < 42.0


def _truth_check(path: Path, fault_plan) -> None:  # noqa: ANN001
    with h5py.File(path) as f:
        los = f["truth/los_displacement"][()]
        g = f["geometry"]
        lat, lon, inc = (TiePointGrid.read(g, n) for n in ("latitude", "longitude", "incidence"))
        heading = f.attrs["heading_deg"]
    rows, cols = np.unravel_index(np.argsort(np.abs(los).ravel())[-200::20], los.shape)
    e, n = east_north_offset_m(EVENT["latitude"], EVENT["longitude"], lat.at(rows, cols), lon.at(rows, cols))
    ue, un, uu = fault_plan.fault.displacement_enu(e, n)
    expect = convention.enu_to_los(ue, un, uu, inc.at(rows, cols), heading)
    np.testing.assert_allclose(los[rows, cols], expect, atol=0.03 * np.abs(los).max())


@pytest.mark.parametrize("direction", ["ascending", "descending"])
def test_uplift_is_positive_los_and_negative_phase(direction: str, tmp_path: Path) -> None:
    """A thrust event seen from either pass: the truth LOS agrees with an independent Okada + convention
    evaluation, it is positive where the ground goes up, and the simulated interferogram
    reference * conj(secondary) has the phase los_to_phase(truth), i.e. negative over the uplift."""
    cfg = {**QUIET, "flight_direction": direction, "mechanism": "thrust", "strike_deg": 0.0, "dip_deg": 30.0,
           "rake_deg": 90.0, "max_bperp_m": 0.0}
    plan = plan_pair(EVENT, cfg, 5)
    write_subswath(plan, "IW2", tmp_path / "s.h5")
    _truth_check(tmp_path / "s.h5", plan)
    with h5py.File(tmp_path / "s.h5") as f:
        los = f["truth/los_displacement"][()]
        ref, sec = f["reference"][()], f["secondary"][()]
        lat, lon = (TiePointGrid.read(f["geometry"], n) for n in ("latitude", "longitude"))
    rows, cols = np.mgrid[0:los.shape[0], 0:los.shape[1]]
    e, n = east_north_offset_m(EVENT["latitude"], EVENT["longitude"], lat.at(rows, cols), lon.at(rows, cols))
    _, _, up = plan.fault.displacement_enu(e, n)
    assert los.ravel()[np.argmax(up)] > 0.02
    # phase <-> displacement: where the deformation exceeds a quarter fringe, the interferogram's phase is
    # los_to_phase(truth) (residual ~0), and clearly not its opposite
    strong = np.abs(convention.los_to_phase(los)) > np.pi / 2
    assert strong.sum() > 200
    z = (ref * np.conj(sec))[strong]
    phi = convention.los_to_phase(los[strong])
    right, wrong = np.sum(z * np.exp(-1j * phi)), np.sum(z * np.exp(1j * phi))
    assert abs(np.angle(right)) < 0.1
    assert abs(right) > 2 * abs(wrong)
    # over the uplift the phase is negative (range decrease), as the convention says
    top = los > 0.8 * los.max()
    assert np.angle(np.sum((ref * np.conj(sec))[top] * np.exp(-1j * np.angle(np.exp(1j * phi.mean()))))) < 1.0
    assert np.all(convention.los_to_phase(los[top]) < 0)


def test_reference_phase_removable_from_geometry(tmp_path: Path) -> None:
    """With a 150 m baseline and relief, the flat-earth and topographic phases computed from the file
    (bperp_m, incidence, slant_range_m, height, near_range_m; docs/architecture.md) leave only the
    deformation: the residual coherence is that of the speckle model, not of the fringes."""
    cfg = {**QUIET, "max_bperp_m": 150.0}
    plan = dataclasses.replace(plan_pair(EVENT, cfg, 3), bperp_centre_m=150.0)
    write_subswath(plan, "IW2", tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5") as f:
        g = f["geometry"]
        ref, sec = f["reference"][()], f["secondary"][()]
        los = f["truth/los_displacement"][()]
        lines, samples = ref.shape
        inc = np.radians(TiePointGrid.read(g, "incidence").raster(slice(0, lines), slice(0, samples)))
        bp = TiePointGrid.read(g, "bperp_m").raster(slice(0, lines), slice(0, samples))
        r = g["slant_range_m"][()][None, :]
        h = g["height"][()].astype(np.float64)
        near = f.attrs["near_range_m"]
        assert f.attrs["bperp_m"] == pytest.approx(150.0, rel=0.01)
    phi_ref = -(4 * np.pi / convention.WAVELENGTH_M) * bp * ((r - near) / (r * np.tan(inc)) + h / (r * np.sin(inc)))
    assert np.ptp(phi_ref) > 100.0            # many fringes before removal
    z = ref * np.conj(sec)
    flat = z * np.exp(-1j * (phi_ref + convention.los_to_phase(los)))
    raw = abs(z.sum()) / np.sqrt((abs(ref) ** 2).sum() * (abs(sec) ** 2).sum())
    coh = abs(flat.sum()) / np.sqrt((abs(ref) ** 2).sum() * (abs(sec) ** 2).sum())
    assert raw < 0.05
    assert coh > 0.3
    assert abs(np.angle(flat.sum())) < 0.05


def test_misregistration_truth_is_the_offset_in_the_data(tmp_path: Path) -> None:
    """The recorded misregistration is the sub-pixel offset a coregistration finds (cross-spectrum phase
    slope of the two SLCs, which share their speckle)."""
    cfg = {**QUIET, "reduction": 32, "misregistration_max_px": 0.3, "max_bperp_m": 0.0}
    plan = plan_pair(EVENT, cfg, 22)
    write_subswath(plan, "IW2", tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5") as f:
        ref, sec = f["reference"][()], f["secondary"][()]
        dr, dc = f.attrs["misregistration_rows"], f.attrs["misregistration_cols"]
        los = f["truth/los_displacement"][()]
    assert 0.02 < max(abs(dr), abs(dc)) <= 0.3
    sec = sec * np.exp(1j * convention.los_to_phase(los))     # remove the deformation phase
    f_r = np.fft.fftfreq(ref.shape[1])
    cross = np.sum(np.fft.fft(sec, axis=1) * np.conj(np.fft.fft(ref, axis=1)), axis=0)
    band = np.abs(f_r) < 0.3
    est_dc = -np.polyfit(2 * np.pi * f_r[band], np.unwrap(np.angle(cross[band])), 1, w=np.abs(cross[band]))[0]
    f_a = np.fft.fftfreq(ref.shape[0])
    cross_a = np.sum(np.fft.fft(sec, axis=0) * np.conj(np.fft.fft(ref, axis=0)), axis=1)
    band_a = np.abs(f_a) < 0.25
    est_dr = -np.polyfit(2 * np.pi * f_a[band_a], np.unwrap(np.angle(cross_a[band_a])), 1, w=np.abs(cross_a[band_a]))[0]
    assert est_dc == pytest.approx(dc, abs=0.03)
    assert est_dr == pytest.approx(dr, abs=0.05)


def test_event_outside_every_subswath(tmp_path: Path) -> None:
    """An epicentre 60 km beyond the far edge of IW3: every subswath records it as outside (NaN row/col),
    shares the pair's scene_id, and a small deep event there is not detectable."""
    ev = {**EVENT, "mw": 5.0, "depth_km": 15.0}
    plan = plan_pair(ev, {**TINY, "subswaths": ["IW1", "IW2", "IW3"]}, 2)
    far = plan.grids["IW3"].ground_range(plan.grids["IW3"].samples - 1)
    fr = plan.frame
    plan = dataclasses.replace(plan, frame=Frame(fr.epicentre_lat, fr.epicentre_lon, fr.heading_deg,
                                                 fr.epicentre_s_m, float(far) + 60e3))
    ids = set()
    for iw in ("IW1", "IW2", "IW3"):
        write_subswath(plan, iw, tmp_path / f"{iw}.h5")
        with h5py.File(tmp_path / f"{iw}.h5") as f:
            assert not f.attrs["epicentre_in_subswath"]
            assert math.isnan(f.attrs["epicentre_row"]) and math.isnan(f.attrs["epicentre_col"])
            assert not f["truth"].attrs["detectable"]
            ids.add(f.attrs["scene_id"])
            lon = TiePointGrid.read(f["geometry"], "longitude")
            assert np.all(np.isfinite(lon.values))
    assert len(ids) == 1


def test_random_placement_covers_subswaths_and_outside() -> None:
    """Random placement puts epicentres in every subswath and sometimes in none (over 60 events)."""
    seen = set()
    for i in range(60):
        plan = plan_pair({**EVENT, "id": f"ev{i}"}, {"reduction": 64}, 1)
        g = plan.frame.epicentre_g_m
        inside = [iw for iw, grid in plan.grids.items() if 0 <= grid.col_of_ground(g) <= grid.samples - 1]
        seen.update(inside or ["none"])
    assert seen == {"IW1", "IW2", "IW3", "none"}


def test_real_dem_geotiff(tmp_path: Path) -> None:
    """simulate.dem: heights in radar geometry are the GeoTIFF's at each pixel's position (Rome 30 m DEM,
    Apache-2.0, tests/fixtures/synthetic), 0 outside it, and its coverage is recorded."""
    from quakesar.synthetic.dem import GeoTiffDem

    dem_path = FIXTURES / "Rome-30m-DEM.tif"
    ev = {**EVENT, "id": "rome", "latitude": 42.0, "longitude": 12.5, "depth_km": 10.0, "mw": 5.5}
    simulate_event(ev, {**QUIET, "dem": str(dem_path)}, 1, {"IW2": tmp_path / "r.h5"})
    dem = GeoTiffDem.open(dem_path)
    with h5py.File(tmp_path / "r.h5") as f:
        h = f["geometry/height"][()]
        lat = TiePointGrid.read(f["geometry"], "latitude").raster(slice(0, h.shape[0]), slice(0, h.shape[1]))
        lon = TiePointGrid.read(f["geometry"], "longitude").raster(slice(0, h.shape[0]), slice(0, h.shape[1]))
        params = json.loads(f["truth"].attrs["dem_parameters"])
        assert f["truth"].attrs["dem_source"] == "GeoTIFF Rome-30m-DEM.tif"
    expect = dem.sample(lat, lon)
    inside = np.isfinite(expect)
    assert inside.sum() > 5
    assert np.all(h[~inside & (np.abs(lat - 42.0) > 0.1)] == 0.0)
    # away from the DEM's border (one ground-grid cell mixes the DEM with the 0 m outside it)
    core = inside & (np.abs(lat - 42.0) < 0.045) & (np.abs(lon - 12.5) < 0.045)
    assert core.sum() > 5
    diff = np.abs(h[core] - expect[core])     # ground grid of ~290 m vs point samples of the 30 m DEM
    assert np.median(diff) < 5.0 and np.percentile(diff, 95) < 20.0 and diff.max() < 50.0
    assert np.corrcoef(h[core], expect[core])[0, 1] > 0.9
    assert 0.0 < params["dem_coverage_fraction"] < 0.01
    with pytest.raises(ValueError, match="simulate.dem"):
        simulate_event(ev, {**QUIET, "dem": str(tmp_path / "missing.tif")}, 1, {"IW2": tmp_path / "x.h5"})


def test_bad_event_record_is_named(tmp_path: Path) -> None:
    bad = {k: v for k, v in EVENT.items() if k != "mw"}
    with pytest.raises(ValueError, match=r"us7000df40.*'mw'"):
        simulate_event(bad, TINY, 1, {"IW2": tmp_path / "x.h5"})
    with pytest.raises(ValueError, match="time"):
        simulate_event({**EVENT, "time": "yesterday"}, TINY, 1, {"IW2": tmp_path / "x.h5"})
    assert not (tmp_path / "x.h5").exists()


def test_cli_simulate(tmp_path: Path) -> None:
    """`quakesar simulate --event-record ... --out-dir ... --config ...` writes the configured subswaths."""
    import argparse

    import yaml

    from quakesar.config import load_config
    from quakesar.synthetic.cli import register_cli

    record = tmp_path / "ev.json"
    record.write_text(json.dumps(EVENT), encoding="utf-8")
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    cfg["simulate"] = {**TINY, "quicklook": False}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--event-record", str(record), "--out-dir", str(tmp_path / "out"),
                              "--config", str(tmp_path / "cfg.yaml")])
    assert args.handler(args, load_config(ROOT / "config/config.yaml")) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["IW2.h5"]
    with h5py.File(tmp_path / "out/IW2.h5") as f:
        assert f.attrs["reduction"] == 64
