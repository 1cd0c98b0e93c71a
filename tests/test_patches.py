"""Patch tiling: true geometry against WGS84 geodesics, corner order, drops, labels, idempotence, empty inputs.

Interferograms are built with :mod:`quakesar.patches.synthetic`, whose pixel geolocation is an
exact geodesic model (``pixel_latlon``) stored on a tie-point grid; expected values are recomputed
independently from that model with ``pyproj.Geod`` (WGS84).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyproj
import pytest

from quakesar.patches.synthetic import make_interferogram, pixel_latlon
from quakesar.patches.tiling import COLUMNS, tile_event

GEOD = pyproj.Geod(ellps="WGS84")
AZ, RG = 14.0, 15.0  # azimuth and ground-range pixel spacing (m) of the synthetic geometry


def event(eid: str = "ev1", lat: float = 35.2, lon: float = 40.3, **kw) -> dict:
    ev = dict(id=eid, latitude=lat, longitude=lon, magnitude=6.3, magnitude_type="mww", mw=6.3, depth_km=12.0,
              time="2020-01-05T00:00:00Z")
    ev.update(kw)
    return ev


CASES = {
    # name: (lat0, lon0, heading)
    "ascending": (35.0, 40.0, -12.0),
    "descending": (35.4, 40.2, -168.0),
    "rotated": (-0.3, 100.0, 35.0),  # equatorial, strongly rotated grid: the spherical model fails 0.1 % here
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_geometry_matches_wgs84_geodesics(tmp_path: Path, case: str) -> None:
    lat0, lon0, heading = CASES[case]
    rows, cols, window = 1200, 400, 200
    make_interferogram(tmp_path / "IW2.h5", rows, cols, lat0=lat0, lon0=lon0, heading_deg=heading,
                       azimuth_spacing_m=AZ, range_spacing_m=RG, subswath="IW2")
    # epicentre ~ 30 km away from the frame, in a direction that mixes east and north
    elon, elat, _ = GEOD.fwd(lon0, lat0, 60.0, 30_000.0)
    ev = event(lat=elat, lon=elon)
    tile_event(ev, [tmp_path / "IW2.h5"], {"window": window, "size": 16}, tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    assert list(df.columns[:len(COLUMNS)]) == list(COLUMNS)
    assert len(df) == (rows // window) * (cols // window)
    ground = np.hypot(window * AZ, window * RG)
    for _, p in df.iterrows():
        for rc, (r, c) in {"00": (p.row0 - 0.5, p.col0 - 0.5), "01": (p.row0 - 0.5, p.col1 - 0.5),
                           "11": (p.row1 - 0.5, p.col1 - 0.5), "10": (p.row1 - 0.5, p.col0 - 0.5)}.items():
            elat_, elon_ = pixel_latlon(np.array(r), np.array(c), lat0, lon0, heading, AZ, RG)
            _, _, err = GEOD.inv(p[f"corner_{rc}_lon"], p[f"corner_{rc}_lat"], float(elon_), float(elat_))
            assert err < 1e-3 * ground, (rc, err)
        clat, clon = pixel_latlon(np.array((p.row0 + p.row1 - 1) / 2), np.array((p.col0 + p.col1 - 1) / 2),
                                  lat0, lon0, heading, AZ, RG)
        _, _, err = GEOD.inv(p.center_lon, p.center_lat, float(clon), float(clat))
        assert err < 1e-3 * ground
        az, _, dist = GEOD.inv(float(clon), float(clat), ev["longitude"], ev["latitude"])
        assert abs(p.distance_km * 1000 - dist) < 1e-3 * dist
        assert abs((p.bearing_deg - az + 180) % 360 - 180) < 0.05
        assert np.isclose(np.hypot(p.east_km, p.north_km), p.distance_km, rtol=1e-6)
        assert np.isclose(np.degrees(np.arctan2(p.east_km, p.north_km)) % 360, p.bearing_deg, atol=1e-5)
        assert (p.epicenter_lat, p.epicenter_lon) == pytest.approx((ev["latitude"], ev["longitude"]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_corner_order_is_geographically_right(tmp_path: Path, case: str) -> None:
    """corner_00 -> corner_10 runs along the track heading, corner_00 -> corner_01 to its right (range)."""
    lat0, lon0, heading = CASES[case]
    make_interferogram(tmp_path / "IW1.h5", 1200, 200, lat0=lat0, lon0=lon0, heading_deg=heading)
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10}, tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    for _, p in df.iterrows():
        along, _, _ = GEOD.inv(p.corner_00_lon, p.corner_00_lat, p.corner_10_lon, p.corner_10_lat)
        across, _, _ = GEOD.inv(p.corner_00_lon, p.corner_00_lat, p.corner_01_lon, p.corner_01_lat)
        assert abs((along - heading + 180) % 360 - 180) < 1.0
        assert abs((across - heading - 90 + 180) % 360 - 180) < 1.0
    # rows in numeric order move along the track (the thesis code sorted "1000" before "200")
    first_col = df[df.col0 == 0].sort_values("row0")
    assert first_col.row0.tolist() == list(range(0, 1200, 100))
    steps = [GEOD.inv(a.center_lon, a.center_lat, b.center_lon, b.center_lat)[0]
             for (_, a), (_, b) in zip(first_col.iloc[:-1].iterrows(), first_col.iloc[1:].iterrows())]
    assert all(abs((s - heading + 180) % 360 - 180) < 1.0 for s in steps)
    if case == "ascending":
        assert first_col.center_lat.is_monotonic_increasing
        assert (df.corner_01_lon > df.corner_00_lon).all()
    if case == "descending":
        assert first_col.center_lat.is_monotonic_decreasing
        assert (df.corner_01_lon < df.corner_00_lon).all()


def test_dropped_windows_are_counted_with_reason(tmp_path: Path) -> None:
    rows, cols, w = 300, 400, 100
    valid = np.ones((rows, cols), bool)
    valid[0:100, 0:100] = False          # window (0, 0): nothing valid
    valid[100:200, 100:170] = False      # window (1, 1): 30 % valid
    valid[200:300, 300:340] = False      # window (2, 3): 60 % valid -> kept at min 0.5
    make_interferogram(tmp_path / "IW1.h5", rows, cols, valid=valid)
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": w, "size": 8, "min_valid_fraction": 0.5},
               tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    assert len(df) == 12 - 2
    assert not ((df.row0 == 0) & (df.col0 == 0)).any() and not ((df.row0 == 100) & (df.col0 == 100)).any()
    assert df.loc[(df.row0 == 200) & (df.col0 == 300), "valid_fraction"].item() == pytest.approx(0.6)
    summary = json.loads((tmp_path / "p.summary.json").read_text())
    assert summary["dropped"] == {"valid_fraction_below_min": 2} and summary["windows"] == 12
    with h5py.File(tmp_path / "p.h5") as f:
        assert json.loads(f.attrs["dropped_windows"]) == {"valid_fraction_below_min": 2}
        assert f["patches"].shape == (10, 3, 8, 8)
        assert f["patches"].chunks == (1, 3, 8, 8) and f["patches"].compression is None  # default: uncompressed (read speed)
        assert json.loads(f.attrs["channels"]) == ["coherence", "i", "q"]


def test_no_data_zeros_are_invalid_and_excluded_from_the_average(tmp_path: Path) -> None:
    """(i, q) = (0, 0) is no-data: it lowers the valid fraction and does not dilute the complex mean."""
    rows = cols = 100
    make_interferogram(tmp_path / "IW1.h5", rows, cols, phase=lambda r, c: 0.5 + 0 * c, amplitude=2.0)
    with h5py.File(tmp_path / "IW1.h5", "r+") as f:
        f["i"][:, :40] = 0.0
        f["q"][:, :40] = 0.0
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10, "min_valid_fraction": 0.5},
               tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    assert df.valid_fraction.item() == pytest.approx(0.6)
    with h5py.File(tmp_path / "p.h5") as f:
        x = f["patches"][0]
    amp = np.hypot(x[1], x[2])
    assert np.allclose(amp[:, 4:], 2.0, rtol=1e-5)      # fully valid output pixels: untouched amplitude
    assert np.allclose(np.arctan2(x[2], x[1])[:, 4:], 0.5, atol=1e-5)
    assert np.allclose(x[:, :, :4], 0.0)                  # output pixels with no valid source pixel


def test_detection_label_from_truth_threshold(tmp_path: Path) -> None:
    rows, cols = 200, 200
    los = np.zeros((rows, cols), np.float32)
    los[10, 10] = -0.02    # window (0, 0): peak |LOS| 2 cm
    los[150, 50] = 0.005   # window (1, 0): 5 mm
    make_interferogram(tmp_path / "IW1.h5", rows, cols, truth_los_m=los, detectability_threshold_m=0.01)
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10}, tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv").set_index(["row0", "col0"])
    assert df.loc[(0, 0), "peak_abs_los_m"] == pytest.approx(0.02)
    assert df.loc[(0, 0), "deformation"] == 1 and df.loc[(100, 0), "deformation"] == 0
    assert df.loc[(100, 0), "peak_abs_los_m"] == pytest.approx(0.005)
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10}, tmp_path / "q.h5", tmp_path / "q.csv",
               label_threshold_m=0.004)
    assert pd.read_csv(tmp_path / "q.csv").set_index(["row0", "col0"]).loc[(100, 0), "deformation"] == 1
    # no truth group: label and peak empty
    make_interferogram(tmp_path / "IW3.h5", rows, cols, subswath="IW3")
    tile_event(event(), [tmp_path / "IW3.h5"], {"window": 100, "size": 10}, tmp_path / "r.h5", tmp_path / "r.csv")
    r = pd.read_csv(tmp_path / "r.csv")
    assert r.deformation.isna().all() and r.peak_abs_los_m.isna().all()


def test_optional_channels(tmp_path: Path) -> None:
    unw = np.tile(np.linspace(-3, 3, 100, dtype=np.float32), (100, 1))
    make_interferogram(tmp_path / "IW1.h5", 100, 100, phase=lambda r, c: 0.3 + 0 * c, amplitude=1.5, unwrapped=unw)
    cfg = {"window": 50, "size": 10, "channels": ["phase", "amplitude", "unwrapped", "los_displacement"],
           "dtype": "float16"}
    tile_event(event(), [tmp_path / "IW1.h5"], cfg, tmp_path / "p.h5", tmp_path / "p.csv")
    with h5py.File(tmp_path / "p.h5") as f:
        x = f["patches"][()]
        assert x.dtype == np.float16 and x.shape == (4, 4, 10, 10)
    assert np.allclose(x[:, 0], 0.3, atol=2e-3) and np.allclose(x[:, 1], 1.5, atol=2e-3)
    from quakesar.convention import phase_to_los
    assert np.allclose(x[:, 3], phase_to_los(x[:, 2].astype(np.float64)), atol=1e-4)
    # NaN in a requested unwrapped raster makes those pixels invalid instead of poisoning the average
    unw_nan = unw.copy()
    unw_nan[:, :50] = np.nan
    make_interferogram(tmp_path / "IW4.h5", 100, 100, unwrapped=unw_nan)
    tile_event(event(), [tmp_path / "IW4.h5"], {"window": 100, "size": 10, "channels": ["unwrapped"]},
               tmp_path / "n.h5", tmp_path / "n.csv")
    assert pd.read_csv(tmp_path / "n.csv").valid_fraction.item() == pytest.approx(0.5)
    with h5py.File(tmp_path / "n.h5") as f:
        assert np.isfinite(f["patches"][()]).all()
    with pytest.raises(ValueError, match="unwrapped"):
        make_interferogram(tmp_path / "IW2.h5", 100, 100)
        tile_event(event(), [tmp_path / "IW2.h5"], {"window": 50, "size": 10, "channels": ["unwrapped"]},
                   tmp_path / "x.h5", tmp_path / "x.csv")


def test_rerun_on_unchanged_inputs_leaves_files_untouched(tmp_path: Path) -> None:
    make_interferogram(tmp_path / "IW1.h5", 200, 200, truth_los_m=np.zeros((200, 200), np.float32))
    args = (event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10}, tmp_path / "p.h5", tmp_path / "p.csv")
    tile_event(*args)
    outs = [tmp_path / n for n in ("p.h5", "p.csv", "p.summary.json")]
    before = [(p.stat().st_mtime_ns, p.read_bytes()) for p in outs]
    tile_event(*args)
    assert [(p.stat().st_mtime_ns, p.read_bytes()) for p in outs] == before
    tile_event(event(magnitude=6.4), *args[1:])  # a changed event row re-tiles
    assert (tmp_path / "p.csv").read_bytes() != before[1][1]


def test_events_without_interferograms_or_valid_windows_give_valid_empty_files(tmp_path: Path) -> None:
    tile_event(event(), [], {"window": 100, "size": 10}, tmp_path / "a.h5", tmp_path / "a.csv")
    make_interferogram(tmp_path / "IW1.h5", 200, 200, valid=np.zeros((200, 200), bool))
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10}, tmp_path / "b.h5", tmp_path / "b.csv")
    for name, dropped in (("a", {}), ("b", {"valid_fraction_below_min": 4})):
        df = pd.read_csv(tmp_path / f"{name}.csv")
        assert df.empty and list(df.columns[:len(COLUMNS)]) == list(COLUMNS)
        with h5py.File(tmp_path / f"{name}.h5") as f:
            assert f["patches"].shape == (0, 3, 10, 10)
        assert json.loads((tmp_path / f"{name}.summary.json").read_text())["dropped"] == dropped


def test_bad_inputs_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f["i"] = np.zeros((10, 10), np.float32)
    with pytest.raises(ValueError, match="bad.h5"):
        tile_event(event(), [bad], {"window": 5, "size": 5}, tmp_path / "p.h5", tmp_path / "p.csv")
    with pytest.raises(ValueError, match="size"):
        tile_event(event(), [], {"window": 5, "size": 8}, tmp_path / "p.h5", tmp_path / "p.csv")
    with pytest.raises(ValueError, match="magnitude"):
        ev = event()
        del ev["magnitude"]
        tile_event(ev, [], {"window": 5, "size": 5}, tmp_path / "p.h5", tmp_path / "p.csv")


def test_compression_option_changes_storage_not_values(tmp_path: Path) -> None:
    make_interferogram(tmp_path / "IW1.h5", 200, 200, phase=lambda r, c: 0.05 * r + 0.02 * c)
    values = {}
    for comp in ("gzip", "lzf", "none"):
        tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "size": 10, "compression": comp},
                   tmp_path / f"{comp}.h5", tmp_path / f"{comp}.csv")
        with h5py.File(tmp_path / f"{comp}.h5") as f:
            assert f["patches"].compression == (None if comp == "none" else comp)
            values[comp] = f["patches"][()]
    assert np.array_equal(values["gzip"], values["none"]) and np.array_equal(values["lzf"], values["none"])
    with pytest.raises(ValueError, match="compression"):
        tile_event(event(), [], {"window": 100, "size": 10, "compression": "zstd"}, tmp_path / "x.h5", tmp_path / "x.csv")


def test_overlapping_windows_with_a_stride(tmp_path: Path) -> None:
    valid = np.ones((200, 200), bool)
    valid[:, :50] = False
    make_interferogram(tmp_path / "IW1.h5", 200, 200, valid=valid)
    tile_event(event(), [tmp_path / "IW1.h5"], {"window": 100, "stride": 50, "size": 10, "min_valid_fraction": 0.0},
               tmp_path / "p.h5", tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    assert sorted(set(df.row0)) == sorted(set(df.col0)) == [0, 50, 100] and df.patch_id.is_unique
    assert df.groupby("col0").valid_fraction.first().to_dict() == {0: 0.5, 50: 1.0, 100: 1.0}
    assert json.loads((tmp_path / "p.summary.json").read_text())["dropped"] == {}
    assert len(df) == 9 and df.h5_index.tolist() == list(range(9))


def test_window_starts_cover_the_far_edge() -> None:
    from quakesar.patches.tiling import window_starts

    assert window_starts(13_500, 2000, 2000).tolist() == [0, 2000, 4000, 6000, 8000, 10000, 11500]
    assert window_starts(6_300, 2000, 2000).tolist() == [0, 2000, 4000]          # 300 px left: < 1/4 window
    assert window_starts(400, 100, 100).tolist() == [0, 100, 200, 300]
    assert window_starts(99, 100, 100).tolist() == []
    assert window_starts(200, 100, 50).tolist() == [0, 50, 100]
    assert window_starts(130, 100, 100).tolist() == [0, 30]
