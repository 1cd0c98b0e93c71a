"""Time-series stage (issue 15): simulator, dataset, real-input readers, auto-encoder training, evaluation.

Real file formats are built here in their published layouts (MintPy ``timeseries.h5`` with h5py, GeoTIFF
stacks with rasterio); no network.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from quakesar.timeseries.baselines import best_pair, blind_stack, event_masks, shortest_pair, stack_mean
from quakesar.timeseries.dataset import arrays_from_samples, read_dataset, simulate_split, write_dataset
from quakesar.timeseries.evaluate import detection_limit, evaluate, predict_arrays
from quakesar.timeseries.readers import read_geotiff_stack, read_mintpy
from quakesar.timeseries.report import summary_markdown
from quakesar.timeseries.settings import SeriesSettings
from quakesar.timeseries.simulate import simulate_sample
from quakesar.timeseries.tensors import referenced
from quakesar.timeseries.train import TrainingInterrupted, fit, load_checkpoint

torch.set_num_threads(1)

NOISELESS = dict(turbulence_std_m=(0.0, 0.0), stratified_std_m_per_km=0.0, orbital_ramp_m_per_100km=0.0,
                 coherence_floor=(0.99, 0.99), looks=1e12)


# ---- simulator


def test_sample_is_deterministic_and_seed_dependent():
    s = SeriesSettings(size=32, n_dates=9)
    a, b = simulate_sample("x-1", s, 3), simulate_sample("x-1", s, 3)
    c = simulate_sample("x-1", s, 4)
    np.testing.assert_array_equal(a.series, b.series)
    np.testing.assert_array_equal(a.dem, b.dem)
    assert a.truth == b.truth or json.dumps(a.truth, default=str) == json.dumps(b.truth, default=str)
    assert not np.array_equal(a.series, c.series)
    assert a.series.shape == (9, 32, 32) and a.series.dtype == np.float32
    assert np.all(a.series[0] == 0)   # MintPy layout: relative to the first acquisition


def test_overriding_the_peak_keeps_the_other_draws():
    s = SeriesSettings(size=32, n_dates=9)
    a = simulate_sample("y", s, 1, kind="coseismic", peak_m=0.002)
    b = simulate_sample("y", s, 1, kind="coseismic", peak_m=0.02)
    np.testing.assert_allclose(b.cumulative, 10 * a.cumulative, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(a.series - a.deformation, b.series - b.deformation, atol=1e-8)   # same atmosphere
    assert a.truth["event_index"] == b.truth["event_index"]
    assert b.truth["mw_effective"] == pytest.approx(a.truth["mw_effective"] + 2.0 / 3.0, abs=1e-9)


def test_step_appears_only_after_the_event_date():
    s = SeriesSettings(size=32, n_dates=11, **NOISELESS)
    smp = simulate_sample("step", s, 5, kind="coseismic", peak_m=0.01)
    k = smp.truth["event_index"]
    assert 1 <= k <= 10
    assert np.abs(smp.series[:k]).max() < 1e-6
    for j in range(k, 11):
        np.testing.assert_allclose(smp.series[j], smp.cumulative, atol=1e-6)
    assert np.abs(referenced(smp.cumulative)).max() == pytest.approx(0.01, rel=1e-5)
    assert smp.truth["peak_abs_los_m"] == pytest.approx(0.01, rel=1e-5) and smp.truth["label"] == 1


def test_slow_slip_is_a_monotone_transient_and_negatives_are_empty():
    s = SeriesSettings(size=32, n_dates=11, **NOISELESS)
    ss = simulate_sample("ss", s, 2, kind="slow_slip", peak_m=0.01)
    f = ss.time_function
    assert f[0] == 0 and f[-1] == 1 and np.all(np.diff(f) >= 0)
    np.testing.assert_allclose(ss.series[5], f[5] * ss.cumulative, atol=1e-6)
    neg = simulate_sample("n", s, 2, kind="none")
    assert np.abs(neg.series).max() < 1e-6 and neg.truth["label"] == 0 and neg.truth["peak_abs_los_m"] == 0


def test_pair_turbulence_has_the_configured_std():
    s = SeriesSettings(size=64, n_dates=9, stratified_std_m_per_km=0.0, orbital_ramp_m_per_100km=0.0,
                       coherence_floor=(0.99, 0.99), looks=1e12)
    stds = [np.std(simulate_sample(f"t{i}", s, 1, kind="none", turbulence_std_m=0.01).series[3]) for i in range(20)]
    # ts_3 - ts_0 is one pair: its turbulent std is the configured one (each date has 1/sqrt(2) of it)
    assert np.mean(stds) == pytest.approx(0.01, rel=0.05)


def test_settings_errors_name_the_key():
    with pytest.raises(ValueError, match="timeseries.simulate.size"):
        SeriesSettings(size=30)
    with pytest.raises(ValueError, match="unknown keys"):
        SeriesSettings.from_config({"n_dates": 9, "bogus": 1})


# ---- dataset and baselines


def test_dataset_round_trip(tmp_path: Path):
    s = SeriesSettings(size=16, n_dates=5)
    path = write_dataset(tmp_path / "d.h5", simulate_split("train", 6, s, 1), s, 1, "train", 6)
    d = read_dataset(path)
    ref = simulate_sample("train-000003", s, 1)
    np.testing.assert_array_equal(d.series[3], ref.series)
    np.testing.assert_array_equal(d.cumulative[3], ref.cumulative)
    assert d.truth["kind"][3] == ref.truth["kind"] and d.settings == s and d.sample_id[3] == "train-000003"
    assert [p.name for p in tmp_path.iterdir()] == ["d.h5"]       # atomic: no temporary file left
    with pytest.raises(ValueError, match="expected 7 samples"):
        write_dataset(tmp_path / "e.h5", simulate_split("train", 6, s, 1), s, 1, "train", 7)
    assert not (tmp_path / "e.h5").exists()


def test_baselines_on_a_noiseless_step_are_exact():
    s = SeriesSettings(size=16, n_dates=7, **NOISELESS)
    d = arrays_from_samples([simulate_sample(f"b{i}", s, 1, kind="coseismic", peak_m=0.01) for i in range(3)], s)
    pre, post = event_masks(d.time_function, d.truth["event_index"])
    truth = referenced(d.cumulative)
    blind, k = blind_stack(d.series)
    assert k.tolist() == d.truth["event_index"].astype(int).tolist()     # the change point is found
    for est in (stack_mean(d.series, pre, post), best_pair(d.series, pre, post, d.cumulative),
                shortest_pair(d.series, pre, post), blind):
        np.testing.assert_allclose(est, truth, atol=1e-6)


def test_detection_limit_rule():
    peaks = [1, 2, 3, 5, 8]
    assert detection_limit(peaks, [0.1, 0.5, 0.95, 0.92, 1.0], 0.9)[0] == 3
    assert detection_limit(peaks, [0.1, 0.95, 0.5, 0.92, 1.0], 0.9)[0] == 5    # must hold for every larger peak
    assert detection_limit(peaks, [0.1, 0.2, 0.3, 0.4, 0.5], 0.9) == (None, None)
    _, interp = detection_limit(peaks, [0.1, 0.5, 0.95, 0.92, 1.0], 0.9)
    assert 2 < interp < 3


# ---- real-input readers


def _write_mintpy(path: Path, maps_m: np.ndarray, dates: list[str], unit: str = "m", scale: float = 1.0) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset("timeseries", data=(maps_m * scale).astype(np.float32))
        f.create_dataset("date", data=np.array([d.encode() for d in dates]))
        f.create_dataset("bperp", data=np.zeros(len(dates), np.float32))
        f.attrs.update({"FILE_TYPE": "timeseries", "UNIT": unit, "X_FIRST": "30.0", "Y_FIRST": "40.0",
                        "X_STEP": "0.000833333", "Y_STEP": "-0.000833333", "WIDTH": str(maps_m.shape[2]),
                        "LENGTH": str(maps_m.shape[1]), "REF_DATE": dates[0]})


def test_mintpy_round_trip_and_errors(tmp_path: Path):
    smp = simulate_sample("m", SeriesSettings(size=32, n_dates=9), 1, kind="coseismic", peak_m=0.01)
    dates = [f"202301{d:02d}" for d in range(1, 28, 3)]
    _write_mintpy(tmp_path / "timeseries.h5", smp.series, dates)
    with h5py.File(tmp_path / "geometryGeo.h5", "w") as g:
        g.create_dataset("height", data=smp.dem)
    st = read_mintpy(tmp_path / "timeseries.h5", tmp_path / "geometryGeo.h5")
    np.testing.assert_allclose(st.maps, smp.series, atol=1e-7)
    np.testing.assert_array_equal(st.dem, smp.dem)
    assert st.days.tolist() == [3.0 * k for k in range(9)] and st.geographic
    assert st.spacing_m == pytest.approx(92.7, abs=0.5)
    _write_mintpy(tmp_path / "mm.h5", smp.series, dates, unit="mm", scale=1000.0)
    np.testing.assert_allclose(read_mintpy(tmp_path / "mm.h5").maps, smp.series, atol=1e-6)
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_dataset("timeseries", data=smp.series)
        f.create_dataset("date", data=np.array([d.encode() for d in dates]))
    with pytest.raises(ValueError, match=r"bad\.h5: attribute 'X_FIRST' missing"):
        read_mintpy(tmp_path / "bad.h5")


def test_geotiff_stacks_read_like_the_mintpy_layout(tmp_path: Path):
    import rasterio
    from rasterio.transform import from_origin

    smp = simulate_sample("g", SeriesSettings(size=32, n_dates=5), 1, kind="coseismic", peak_m=0.01)
    offset = np.float32(0.003)          # a per-file constant: the reader re-references to the first date
    t = from_origin(30.0, 40.0, 0.0009, 0.0009)
    prof = dict(driver="GTiff", height=32, width=32, dtype="float32", crs="EPSG:4326", transform=t, nodata=-9999.0)
    files = []
    for k, day in enumerate([1, 13, 25, 37, 49]):
        date = (np.datetime64("2023-01-01") + np.timedelta64(day - 1, "D")).astype(str).replace("-", "")
        p = tmp_path / f"los_{date}.tif"
        with rasterio.open(p, "w", count=1, **prof) as dst:
            dst.write((smp.series[k] + offset) * 1000.0, 1)       # mm on disk
        files.append(p)
    st = read_geotiff_stack(list(reversed(files)), scale_to_m=0.001)      # order from the dates, not the list
    np.testing.assert_allclose(st.maps, smp.series, atol=1e-6)
    assert st.days.tolist() == [0, 12, 24, 36, 48]
    multi = tmp_path / "stack.tif"
    with rasterio.open(multi, "w", count=5, **prof) as dst:
        for k in range(5):
            dst.write(smp.series[k], k + 1)
            dst.set_band_description(k + 1, f"2023{k + 1:02d}01")
    np.testing.assert_allclose(read_geotiff_stack(multi).maps, smp.series, atol=1e-7)
    other = tmp_path / "los_20230301.tif"
    with rasterio.open(other, "w", count=1, **{**prof, "transform": from_origin(31.0, 40.0, 0.0009, 0.0009)}) as dst:
        dst.write(smp.series[0], 1)
    with pytest.raises(ValueError, match="los_20230301.tif: grid differs"):
        read_geotiff_stack([files[0], other])


# ---- training and evaluation (tiny)

EASY = dict(size=32, n_dates=9, turbulence_std_m=(0.001, 0.002), stratified_std_m_per_km=0.05, looks=2.0,
            peak_m=(0.01, 0.03), kinds={"coseismic": 0.7, "none": 0.3})


@pytest.fixture(scope="module")
def easy_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ts")
    s = SeriesSettings(**EASY)
    write_dataset(d / "train.h5", simulate_split("train", 320, s, 11), s, 11, "train", 320)
    write_dataset(d / "val.h5", simulate_split("val", 64, s, 11), s, 11, "val", 64)
    return d


def test_tiny_training_reduces_loss_and_beats_the_stack_on_easy_series(easy_data: Path):
    out = easy_data / "run"
    summary = fit(easy_data / "train.h5", easy_data / "val.h5", out, {"epochs": 6, "batch_size": 16, "lr": 3e-3}, 0,
                  progress=False)
    hist = (out / "history.csv").read_text().splitlines()
    first, last = (dict(zip(hist[0].split(","), r.split(","))) for r in (hist[1], hist[-1]))
    assert float(last["train_loss"]) < 0.8 * float(first["train_loss"])
    assert summary["best_epoch"] >= 2
    net, _ = load_checkpoint(out / "checkpoint.pt")
    s = SeriesSettings(**EASY)
    test = arrays_from_samples([simulate_sample(f"test-{i}", s, 99, kind="coseismic") for i in range(40)], s)
    pred, _ = predict_arrays(net, test.series, test.dem)
    pre, post = event_masks(test.time_function, test.truth["event_index"])
    truth = referenced(test.cumulative)
    rmse_model = float(np.sqrt(((pred - truth) ** 2).mean()))
    rmse_stack = float(np.sqrt(((stack_mean(test.series, pre, post) - truth) ** 2).mean()))
    assert rmse_model < rmse_stack, (rmse_model, rmse_stack)


def test_resume_gives_the_weights_of_an_uninterrupted_run(easy_data: Path, tmp_path: Path):
    cfg = {"epochs": 2, "batch_size": 32, "channels": [8, 16], "temporal_channels": 2}
    fit(easy_data / "train.h5", easy_data / "val.h5", tmp_path / "full", cfg, 1, progress=False)
    with pytest.raises(TrainingInterrupted):
        fit(easy_data / "train.h5", easy_data / "val.h5", tmp_path / "cut", cfg, 1, stop_after_epoch=1, progress=False)
    assert not (tmp_path / "cut" / "checkpoint.pt").exists()
    fit(easy_data / "train.h5", easy_data / "val.h5", tmp_path / "cut", cfg, 1, progress=False)
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)
    for k in a["state"]:
        assert torch.equal(a["state"][k], b["state"][k]), k
    assert (tmp_path / "full" / "history.csv").read_text().count("\n") == 3


def test_evaluate_and_report_fragment(easy_data: Path, tmp_path: Path):
    cfg = {"epochs": 1, "batch_size": 32, "channels": [8, 16], "temporal_channels": 2}
    fit(easy_data / "train.h5", easy_data / "val.h5", tmp_path / "m", cfg, 2, progress=False)
    ev = {"noise_std_m": [0.01], "peaks_m": [0.005, 0.05], "samples_per_peak": 4, "negatives": 10, "rmse_samples": 6,
          "mw": [5.0, 5.4, 0.2], "magnitude_draws": 3}
    r = evaluate(tmp_path / "m" / "checkpoint.pt", ev, 3)
    assert set(r["detection"][0]["detectors"]) == {"autoencoder", "autoencoder_map", "stack", "stack_blind", "pair"}
    assert r["detection"][0]["detectors"]["stack"]["false_alarm"] <= 0.1
    assert set(r["denoising"]["rmse_mm"]) == {"autoencoder", "best_pair", "stack", "stack_blind"}
    assert r["denoising"]["rmse_mm"]["best_pair"] > 0
    # bigger events have bigger peaks
    assert r["magnitude"]["median_peak_m"][-1] > r["magnitude"]["median_peak_m"][0]
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(r))
    md = summary_markdown(path)
    assert "| 10 |" in md and "plain stack" in md and "Mw 50 %" in md
    with pytest.raises(ValueError, match="missing"):
        (tmp_path / "x.json").write_text("{}")
        summary_markdown(tmp_path / "x.json")


def test_predict_stack_tiles_a_real_mintpy_file(easy_data: Path, tmp_path: Path):
    from quakesar.timeseries.predict import predict_stack

    cfg = {"epochs": 1, "batch_size": 32, "channels": [8, 16], "temporal_channels": 2}
    fit(easy_data / "train.h5", easy_data / "val.h5", tmp_path / "m", cfg, 2, progress=False)
    rng = np.random.default_rng(0)
    maps = (rng.standard_normal((10, 40, 70)) * 0.003).astype(np.float32)      # 10 dates, model uses the last 9
    dates = [f"2023{1 + k // 3:02d}{1 + 10 * (k % 3):02d}" for k in range(10)]
    _write_mintpy(tmp_path / "timeseries.h5", maps, dates)
    with h5py.File(tmp_path / "timeseries.h5", "a") as f:
        f.attrs.update({"X_STEP": "0.000899", "Y_STEP": "-0.000899"})        # ~100 m, the training spacing
    r = predict_stack(tmp_path / "m" / "checkpoint.pt", read_mintpy(tmp_path / "timeseries.h5"), device="cpu")
    assert r["deformation"].shape == (40, 70) and np.isfinite(r["deformation"]).all()
    assert len(r["scores"]) == 2 * 3 and r["dates"][0] == "2023-01-11"
    assert all(0.0 <= s["score"] <= 1.0 for s in r["scores"])
    _write_mintpy(tmp_path / "coarse.h5", maps, dates)          # 0.000833 deg = 93 m: within 25 %, fine
    with h5py.File(tmp_path / "coarse.h5", "a") as f:
        f.attrs.update({"X_STEP": "0.0027", "Y_STEP": "-0.0027"})
    with pytest.raises(ValueError, match="coarse.h5: pixel spacing 300 m"):
        predict_stack(tmp_path / "m" / "checkpoint.pt", read_mintpy(tmp_path / "coarse.h5"), device="cpu")


def test_cli_and_rule_entry_point(tmp_path: Path):
    from quakesar.cli import build_parser
    from quakesar.timeseries.rule import main

    args = build_parser().parse_args(["timeseries", "simulate", "--out-dir", str(tmp_path)])
    assert args.ts_command == "simulate"
    cfg = json.dumps({"train_samples": 3, "val_samples": 2, "simulate": {"size": 16, "n_dates": 4}})
    log = tmp_path / "sim.log"
    assert main(["simulate", "--cfg", cfg, "--seed", "1", "--train", str(tmp_path / "t.h5"), "--val", str(tmp_path / "v.h5"),
                 "--log", str(log)]) == 0
    assert len(read_dataset(tmp_path / "t.h5")) == 3 and read_dataset(tmp_path / "v.h5").sample_id[0] == "val-000000"
    assert "wrote 3 samples" in log.read_text()


def test_series_verdict_interpolates_the_measured_limit():
    from quakesar.timeseries.verdict import series_detectable, series_detection_limit

    ev = {"detection": [{"noise_std_m": 0.005, "detectors": {"autoencoder_map": {"limit_interpolated_m": 0.002}}},
                        {"noise_std_m": 0.02, "detectors": {"autoencoder_map": {"limit_interpolated_m": 0.008}}},
                        {"noise_std_m": 0.04, "detectors": {"autoencoder_map": {"limit_interpolated_m": None}}}]}
    assert series_detection_limit(ev, 0.01) == pytest.approx(0.004)      # log-log between 5 and 20 mm
    assert series_detection_limit(ev, 0.001) == 0.002
    assert series_detection_limit(ev, 0.03) == float("inf")
    assert series_detectable(0.005, 0.01, ev) and not series_detectable(0.003, 0.01, ev)
    with pytest.raises(ValueError, match="no detector 'x'"):
        series_detection_limit(ev, 0.01, "x")


def test_schema_defaults_are_the_code_defaults():
    from quakesar.config import load_schema
    from quakesar.timeseries.evaluate import EVAL_DEFAULTS
    from quakesar.timeseries.train import DEFAULTS

    props = load_schema()["properties"]["timeseries"]["properties"]
    assert props["enabled"]["default"] is False
    sim = {k: v["default"] for k, v in props["simulate"]["properties"].items()}
    assert SeriesSettings.from_config(sim) == SeriesSettings()
    assert {k: v["default"] for k, v in props["train"]["properties"].items()} == DEFAULTS
    assert {k: v["default"] for k, v in props["evaluate"]["properties"].items()} == EVAL_DEFAULTS
