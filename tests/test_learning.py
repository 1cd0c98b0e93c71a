"""Tests of the learning stage on small in-memory data: losses, models, metrics, event-level
combination, bootstrap, training (determinism, resume, early stopping, baselines) and the ablation.

The in-memory dataset stands in for ``quakesar.dataset.torchdata.PatchDataset`` with the same
item contract ``(x [C,H,W], targets dict, row)``; ``tests/test_learning_dataset.py`` runs the
trainer on a real dataset built by the dataset stage.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from quakesar.geodesy import destination, geodesic_polar
from quakesar.learning.bootstrap import bootstrap_ci, mean_abs
from quakesar.learning.event_level import combine_events, geometric_median, geometric_median_latlon
from quakesar.learning.evaluate import build_predictions, regression_metrics
from quakesar.learning.losses import magnitude_loss, pairwise_margin_ranking
from quakesar.learning.models import build_model
from quakesar.learning.tasks import TASKS
from quakesar.learning.train import train_config, train_run

# ----------------------------------------------------------------------------- synthetic data


def make_index(n_events: int = 12, per_event: int = 8, seed: int = 0) -> pd.DataFrame:
    """Index rows of patches around synthetic events, geometry computed with quakesar.geodesy."""
    rng = np.random.default_rng(seed)
    rows = []
    splits = ["train"] * (n_events - 4) + ["val"] * 2 + ["test"] * 2
    for k in range(n_events):
        elat, elon, mag = 30.0 + rng.uniform(-5, 5), 20.0 + 3 * k, rng.uniform(5.5, 7.5)
        for j in range(per_event):
            dist_m, bearing = rng.uniform(5e3, 60e3), rng.uniform(0, 360)
            clat, clon = destination(elat, elon, bearing, dist_m)
            dist, _, east, north = geodesic_polar(clat, clon, elat, elon)  # the patch stage's WGS84 labels
            row = {"h5_path": "unused.h5", "h5_index": j, "patch_id": f"ev{k}_{j}", "event_id": f"ev{k}", "scene_id": f"sc{k}", "subswath": "IW1", "split": splits[k],
                   "center_lat": float(clat), "center_lon": float(clon), "epicenter_lat": elat, "epicenter_lon": elon,
                   "distance_km": float(dist) / 1e3, "east_km": float(east) / 1e3, "north_km": float(north) / 1e3,
                   "magnitude": round(mag, 1), "deformation": float(dist_m < 30e3)}
            for c, (de, dn) in {"00": (-5, 5), "01": (5, 5), "11": (5, -5), "10": (-5, -5)}.items():
                la, lo = destination(clat, clon, math.degrees(math.atan2(de, dn)), math.hypot(de, dn) * 1e3)
                row[f"corner_{c}_lat"], row[f"corner_{c}_lon"] = float(la), float(lo)
            rows.append(row)
    return pd.DataFrame(rows)


class MemoryPatches(torch.utils.data.Dataset):
    """Images that encode the targets (a blob at the epicentre offset, amplitude with magnitude) plus noise."""

    def __init__(self, index: pd.DataFrame, split: str, size: int = 16) -> None:
        self.rows = np.flatnonzero(index["split"].to_numpy() == split)
        self.index = index
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        self.x = []
        for r in self.rows:
            e = index.iloc[r]
            cx, cy = size / 2 + e["east_km"] / 10, size / 2 - e["north_km"] / 10
            blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 8.0) * (e["magnitude"] - 6.5)
            noise = np.random.default_rng(int(r)).normal(0, 0.05, (3, size, size)).astype(np.float32)
            ch = np.stack([blob, np.full_like(xx, e["east_km"] / 60), np.full_like(xx, e["north_km"] / 60)]) + noise
            self.x.append(torch.from_numpy(ch.astype(np.float32)))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        e = self.index.iloc[self.rows[i]]
        t = {k: torch.tensor(float(e[k])) for k in ("distance_km", "east_km", "north_km", "magnitude", "deformation")}
        return self.x[i], t, int(self.rows[i])


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("dataset")
    make_index().to_csv(d / "index.csv", index=False)
    return d


def factory_for(dataset_dir: Path):
    index = pd.read_csv(dataset_dir / "index.csv")
    cache: dict[str, MemoryPatches] = {}

    def make(split: str, augment: bool):
        if split not in cache:
            cache[split] = MemoryPatches(index, split)
        return cache[split]

    return make


FAST = {"epochs": 4, "batch_size": 8, "lr": 3e-3, "num_workers": 0, "device": "cpu", "bootstrap": 200, "patience": 0, "augment": False}


# ----------------------------------------------------------------------------- losses


def test_ranking_loss_matches_hand_computation_and_ignores_ties():
    p = torch.tensor([0.0, 0.5, 0.2])
    y = torch.tensor([1.0, 2.0, 2.0])  # pairs (0,1): need p1>p0 -> 0.1-0.5<0 -> 0; (0,2): 0.1-0.2<0 -> 0; (1,2) tie
    assert float(pairwise_margin_ranking(p, y, 0.1)) == pytest.approx(0.0)
    p = torch.tensor([0.3, 0.0, 0.0])  # (0,1): 0.1 + 0.3 = 0.4 ; (0,2): 0.4 ; (1,2) tie excluded
    assert float(pairwise_margin_ranking(p, y, 0.1)) == pytest.approx(0.4)
    # all tied: no pair, zero loss (not pushing predictions apart)
    assert float(pairwise_margin_ranking(torch.tensor([0.0, 1.0]), torch.tensor([3.0, 3.0]), 0.1)) == 0.0


def test_ranking_loss_batch_of_one_and_odd_batch_backpropagate():
    p = torch.tensor([0.7], requires_grad=True)
    loss, parts = magnitude_loss(p, torch.tensor([6.0]), ranking_lambda=1.0, margin=0.02)
    loss.backward()  # the batch of one must not break the step
    assert parts["ranking"] == 0.0 and p.grad is not None
    p3 = torch.tensor([0.0, 0.0, 0.0], requires_grad=True)
    mr = pairwise_margin_ranking(p3, torch.tensor([1.0, 2.0, 3.0]), 0.5)
    assert float(mr.detach()) == pytest.approx(0.5)  # all three pairs used (the half-split pairing would use one)
    mr.backward()
    # d/dp of mean(margin - sign(y_i - y_j)(p_i - p_j)) over (0,1), (0,2), (1,2)
    assert torch.allclose(p3.grad, torch.tensor([2 / 3, 0.0, -2 / 3]))


def test_lambda_zero_is_plain_mse_and_lambda_adds_ranking():
    p, y = torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 0.5])
    l0, _ = magnitude_loss(p, y, 0.0, 0.1)
    assert float(l0) == pytest.approx(float(torch.nn.functional.mse_loss(p, y)))
    l1, parts = magnitude_loss(p, y, 2.0, 0.1)
    assert float(l1) == pytest.approx(parts["mse"] + 2.0 * float(pairwise_margin_ranking(p, y, 0.1)))
    assert parts["ranking"] > 0
    with pytest.raises(ValueError, match="ranking_lambda"):
        magnitude_loss(p, y, -1.0, 0.1)


# ----------------------------------------------------------------------------- models


@pytest.mark.parametrize("name", ["smallcnn", "resnet18", "convnext_tiny", "vit_base_patch16_224"])
def test_models_adapt_channels_and_size(name):
    m = build_model(name, in_chans=5, num_outputs=2, img_size=40).eval()
    with torch.no_grad():
        assert m(torch.zeros(2, 5, 40, 40)).shape == (2, 2)


def test_pretrained_weights_from_local_file_with_channel_adaptation(tmp_path):
    src = build_model("resnet18", in_chans=3, num_outputs=1000, img_size=32)
    torch.save({"state_dict": src.state_dict()}, tmp_path / "r18.pth")
    m = build_model("resnet18", in_chans=5, num_outputs=1, img_size=32, pretrained_path=tmp_path / "r18.pth")
    assert torch.equal(m.layer1[0].conv1.weight, src.layer1[0].conv1.weight)
    w3, w5 = src.conv1.weight, m.conv1.weight
    assert w5.shape[1] == 5
    # timm adapt_input_conv: channels repeated cyclically, scaled by 3/5
    assert torch.allclose(w5[:, 3], w3[:, 0] * 3 / 5, atol=1e-6)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        build_model("resnet18", 5, 1, 32, tmp_path / "absent.pth")
    torch.save({"bogus.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="bad.pth"):
        build_model("smallcnn", 5, 1, 32, tmp_path / "bad.pth")


# ----------------------------------------------------------------------------- metrics and event level


def test_regression_metrics_hand_values():
    m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert m["mae"] == pytest.approx(2 / 3) and m["mse"] == pytest.approx(4 / 3)
    assert m["rmse"] == pytest.approx(math.sqrt(4 / 3)) and m["r2"] == pytest.approx(1 - 4 / 2)


def test_geometric_median_is_robust_and_minimises_distance_sum():
    from scipy.optimize import minimize

    pts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.4], [100.0, 100.0]])
    gm = geometric_median(pts)
    ref = minimize(lambda y: np.linalg.norm(pts - y, axis=1).sum(), pts.mean(0), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}).x
    assert np.allclose(gm, ref, atol=1e-4)
    assert np.linalg.norm(gm - [0.5, 0.5]) < 0.2  # the outlier does not drag it (the mean would be at ~17)
    # an iterate on a data point (Vardi-Zhang case): the median is that point
    assert np.allclose(geometric_median(np.array([[0.0, 0.0]] * 5 + [[1.0, 0.0], [0.0, 1.0]])), [0.0, 0.0], atol=1e-6)


def test_geometric_median_latlon_across_the_dateline():
    lat = np.array([10.0, 10.0, 10.1, 9.9])
    lon = np.array([179.95, -179.95, 180.0, 180.0])
    la, lo = geometric_median_latlon(lat, lon)
    assert abs(la - 10.0) < 0.05 and min(abs(lo - 180.0), abs(lo + 180.0)) < 0.05


def test_epicentre_predictions_convert_offsets_to_latlon_and_km():
    idx = make_index(4, 5)
    spec = TASKS["epicentre"]
    rows = np.arange(len(idx))
    perfect = build_predictions(idx, rows, idx[["east_km", "north_km"]].to_numpy(), spec)
    assert perfect["error_km"].max() < 1e-6
    shifted = build_predictions(idx, rows, idx[["east_km", "north_km"]].to_numpy() + [3.0, 4.0], spec)
    # 5 km, whatever the latitude: offsets are WGS84 geodesic, the error is the spherical haversine
    # distance the issue asks for; the two agree to < 0.3 % at these latitudes
    assert np.allclose(shifted["error_km"], 5.0, rtol=3e-3)
    assert (shifted["error_lat_deg"] > 0.03).all()  # and about 4 km / 111 km in latitude degrees
    ev = combine_events(shifted, "epicentre")
    assert np.allclose(ev["error_km"], 5.0, rtol=1e-2) and len(ev) == 4


def test_bootstrap_over_events_is_deterministic_and_brackets_the_estimate():
    v = np.random.default_rng(1).normal(0.3, 0.2, 50)
    a = bootstrap_ci(v, mean_abs, 500, seed=7, purpose="x")
    assert a == bootstrap_ci(v, mean_abs, 500, seed=7, purpose="x")
    assert a["ci_low"] < a["value"] < a["ci_high"]
    assert bootstrap_ci(v, mean_abs, 500, seed=8, purpose="x") != a
    assert math.isnan(bootstrap_ci(v[:1], mean_abs, 500, 7, "x")["ci_low"])


# ----------------------------------------------------------------------------- config


def test_train_config_fills_schema_defaults_and_rejects_bad_values():
    cfg = train_config({"epochs": 3})
    assert cfg["epochs"] == 3 and cfg["ranking_margin"] == 0.02 and cfg["models"] == ["smallcnn"]
    from quakesar.config import ConfigError

    with pytest.raises(ConfigError, match="batch_size"):
        train_config({"batch_size": 0})


# ----------------------------------------------------------------------------- training


def test_training_is_deterministic_learns_and_beats_baselines(dataset_dir, tmp_path):
    kw = dict(cfg={**FAST, "epochs": 6}, seed=3, threads=1, dataset_factory=factory_for(dataset_dir), progress=False)
    a = train_run(dataset_dir, "epicentre", "smallcnn", out_dir=tmp_path / "a", **kw)
    b = train_run(dataset_dir, "epicentre", "smallcnn", out_dir=tmp_path / "b", make_figures=False, **kw)
    pa, pb = pd.read_csv(tmp_path / "a" / "predictions.csv"), pd.read_csv(tmp_path / "b" / "predictions.csv")
    pd.testing.assert_frame_equal(pa, pb)
    for f in ("checkpoint.pt", "last.pt", "history.csv", "metrics.json", "pred_vs_true.png", "event_maps.png", "error_vs_distance.png"):
        assert (tmp_path / "a" / f).is_file(), f
    assert list((tmp_path / "a" / "tensorboard").iterdir())
    assert a["n_test"] == 16 and a["patch"]["east_km"]["n"] == 16
    model_err = a["event"]["error_km_median"]["value"]
    assert model_err < a["baselines"]["patch_centre"]["event"]["error_km_median"]["value"]
    # the geometric median of the patch centres is a real baseline: not zero, of the order of the patch offsets
    assert 0.5 < a["baselines"]["patch_centre"]["patch"]["error_km"]["median"] < 60
    assert a["best_epoch"] >= 1 and json.loads((tmp_path / "a" / "metrics.json").read_text())["task"] == "epicentre"


def test_resume_after_interruption_equals_uninterrupted_run(dataset_dir, tmp_path):
    from quakesar.learning.train import TrainingInterrupted

    kw = dict(cfg={**FAST, "scheduler": "onecycle"}, seed=5, threads=1, dataset_factory=factory_for(dataset_dir), progress=False, make_figures=False)
    full = train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "full", **kw)
    with pytest.raises(TrainingInterrupted):
        train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "cut", stop_after_epoch=2, **kw)
    assert len(pd.read_csv(tmp_path / "cut" / "history.csv")) == 2 and not (tmp_path / "cut" / "metrics.json").exists()
    (tmp_path / "cut" / "checkpoint.pt").unlink()  # Snakemake removes the declared outputs of a failed job
    resumed = train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "cut", **kw)
    assert resumed["epochs_run"] == full["epochs_run"] == 4
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "full" / "predictions.csv"), pd.read_csv(tmp_path / "cut" / "predictions.csv"))
    h_full, h_cut = pd.read_csv(tmp_path / "full" / "history.csv"), pd.read_csv(tmp_path / "cut" / "history.csv")
    pd.testing.assert_frame_equal(h_full.drop(columns="seconds"), h_cut.drop(columns="seconds"))
    # different settings: last.pt is not reused
    other = train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "cut", **{**kw, "cfg": {**FAST, "lr": 1e-3}})
    assert other["fingerprint"] != full["fingerprint"]


def test_early_stopping_and_best_checkpoint_not_last_epoch(dataset_dir, tmp_path):
    res = train_run(dataset_dir, "distance", "smallcnn", {**FAST, "epochs": 12, "lr": 0.05, "patience": 2}, seed=1,
                    out_dir=tmp_path / "r", dataset_factory=factory_for(dataset_dir), progress=False, make_figures=False)
    hist = pd.read_csv(tmp_path / "r" / "history.csv")
    best = int(hist["val_score"].idxmin()) + 1
    assert res["best_epoch"] == best and torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=False)["epoch"] == best
    assert res["stopped_early"] and res["epochs_run"] == best + 2 < 12
    # the test predictions come from the best checkpoint, not from the last epoch
    assert res["best_val_score"] == pytest.approx(hist["val_score"].min())
    from quakesar.learning.tasks import TargetScaler

    net = build_model("smallcnn", res["in_chans"], 1, res["img_size"])
    net.load_state_dict(torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=False)["model"])
    net.eval()
    test = factory_for(dataset_dir)("test", False)
    with torch.no_grad():
        z = net(torch.stack([test[i][0] for i in range(len(test))]))[:, 0].numpy()
    sc = TargetScaler(**res["target_scaler"])
    pred = pd.read_csv(tmp_path / "r" / "predictions.csv")
    assert np.allclose(pred["pred_distance_km"], sc.inverse(z[:, None])[:, 0], rtol=1e-4)
    last = torch.load(tmp_path / "r" / "last.pt", weights_only=False)["model"]
    assert any(not torch.equal(v, last[k]) for k, v in net.state_dict().items())  # the last epoch differs from the best


def test_magnitude_event_level_and_train_mean_baseline(dataset_dir, tmp_path):
    res = train_run(dataset_dir, "magnitude", "smallcnn", {**FAST, "epochs": 2}, seed=2, out_dir=tmp_path / "m", ranking_lambda=0.5,
                    dataset_factory=factory_for(dataset_dir), progress=False, make_figures=False)
    pred = pd.read_csv(tmp_path / "m" / "predictions.csv")
    ev_pred = pred.groupby("event_id")["pred_magnitude"].median()
    ev_true = pred.groupby("event_id")["magnitude"].first()
    assert res["event"]["magnitude_mae"]["value"] == pytest.approx(float((ev_pred - ev_true).abs().mean()), rel=1e-4)
    idx = pd.read_csv(dataset_dir / "index.csv")
    mean_m = idx.loc[idx["split"] == "train", "magnitude"].mean()
    assert res["baselines"]["train_mean"]["value"] == pytest.approx(mean_m)
    assert res["baselines"]["train_mean"]["event"]["magnitude_mae"]["value"] == pytest.approx(float((ev_true - mean_m).abs().mean()))
    assert res["ranking_lambda"] == 0.5


# ----------------------------------------------------------------------------- ablation and report


def _fake_run(d: Path, lam: float, seed: int, err: dict[str, float], model: str = "smallcnn") -> Path:
    """A magnitude run directory with event-level errors ``err`` (three patches per event)."""
    d.mkdir(parents=True)
    rows = []
    for e, v in err.items():
        for k, jitter in enumerate((-0.3, 0.0, 0.5)):  # median picks the middle patch
            rows.append({"event_id": e, "magnitude": 6.0, "pred_magnitude": 6.0 + v + jitter, "epicenter_lat": 0.0, "epicenter_lon": 0.0})
    pd.DataFrame(rows).to_csv(d / "predictions.csv", index=False)
    (d / "metrics.json").write_text(json.dumps({"task": "magnitude", "model": model, "seed": seed, "ranking_lambda": lam,
                                                "config": {"bootstrap": 300}}))
    return d


def test_ablation_pairs_by_seed_and_event(tmp_path):
    from quakesar.learning.ablation import summarise

    rng = np.random.default_rng(0)
    events = [f"e{i}" for i in range(20)]
    dirs, expected = [], []
    for seed in (1, 2, 3):
        e0 = {e: float(rng.normal(0, 0.4)) for e in events}
        e1 = {e: v * 0.5 for e, v in e0.items()}  # ranking halves every error of its twin
        dirs += [_fake_run(tmp_path / f"l0_s{seed}", 0.0, seed, e0), _fake_run(tmp_path / f"l1_s{seed}", 1.0, seed, e1)]
        expected += [abs(e1[e]) - abs(e0[e]) for e in events]
    res = summarise(dirs[::-1], tmp_path / "ab" / "ranking.json", tmp_path / "ab" / "ranking.png")
    c = res["comparisons"][0]
    assert c["lambda"] == 1.0 and c["seeds"] == [1, 2, 3] and c["n_events"] == 20 and c["seeds_improved"] == 3
    assert c["mae_difference"]["value"] == pytest.approx(np.mean(expected))
    assert c["mae_difference"]["ci_high"] < 0 and c["relative_change"]["value"] == pytest.approx(-0.5)
    assert (tmp_path / "ab" / "ranking.png").stat().st_size > 1000
    assert json.loads((tmp_path / "ab" / "ranking.json").read_text())["comparisons"][0]["n_seeds"] == 3
    with pytest.raises(ValueError, match="lambda 0"):
        summarise(dirs[1::2], tmp_path / "x.json", tmp_path / "x.png")
    with pytest.raises(ValueError, match="different models"):
        summarise([*dirs, _fake_run(tmp_path / "other", 2.0, 1, {"e0": 0.1}, model="resnet18")], tmp_path / "x.json", tmp_path / "x.png")


def test_report_tables_hold_models_baselines_and_ablation(dataset_dir, tmp_path):
    from quakesar.learning.ablation import summarise
    from quakesar.learning.report import build_report

    f = factory_for(dataset_dir)
    for task in ("epicentre", "magnitude", "distance", "detection"):
        train_run(dataset_dir, task, "smallcnn", {**FAST, "epochs": 1}, seed=0, out_dir=tmp_path / task / "seed0", dataset_factory=f, progress=False,
                  make_figures=task == "epicentre")
    dirs = [_fake_run(tmp_path / f"ab{lam}_{s}", lam, s, {"e1": 0.2 * (s + 1) / (1 + lam), "e2": -0.1}) for lam in (0.0, 1.0) for s in (1, 2, 3)]
    summarise(dirs, tmp_path / "ablation" / "ranking.json", tmp_path / "ablation" / "ranking.png")
    out = build_report(sorted(tmp_path.glob("*/seed0/metrics.json")), tmp_path / "ablation" / "ranking.json", tmp_path / "report")
    md = out.read_text()
    for s in ("## epicentre", "## magnitude", "## distance", "## detection", "baseline: patch centre", "baseline: scene centre",
              "baseline: training mean", "Ranking ablation", "figures/ablation_ranking.png", "figures/epicentre_smallcnn_seed0_event_maps.png"):
        assert s in md, s
    table = pd.read_csv(tmp_path / "report" / "metrics.csv")
    assert set(table["task"]) == {"epicentre", "magnitude", "distance", "detection"} and (table["method"] == "model").sum() == 4
    assert (tmp_path / "report" / "figures" / "epicentre_smallcnn_seed0_event_maps.png").is_file()


def test_ablation_twins_share_initial_weights_and_batch_order(dataset_dir, tmp_path):
    """With lr = 0 only the initial weights and the batch order (through batch-norm statistics) shape the
    predictions: the lambda = 0 and lambda = 2 twins must then agree exactly, while the ranking term is
    active in the lambda = 2 run."""
    kw = dict(cfg={**FAST, "epochs": 2, "lr": 0.0}, seed=4, dataset_factory=factory_for(dataset_dir), progress=False, make_figures=False)
    train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "l0", ranking_lambda=0.0, **kw)
    train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "l2", ranking_lambda=2.0, **kw)
    p0, p2 = pd.read_csv(tmp_path / "l0" / "predictions.csv"), pd.read_csv(tmp_path / "l2" / "predictions.csv")
    pd.testing.assert_frame_equal(p0, p2)
    h0, h2 = pd.read_csv(tmp_path / "l0" / "history.csv"), pd.read_csv(tmp_path / "l2" / "history.csv")
    assert (h0["train_ranking"] == 0).all() and (h2["train_ranking"] > 0).all()
    assert np.allclose(h2["train_loss"], h2["train_mse"] + 2.0 * h2["train_ranking"], rtol=1e-5)
    other = train_run(dataset_dir, "magnitude", "smallcnn", out_dir=tmp_path / "s5", ranking_lambda=0.0, **{**kw, "seed": 5})
    assert not np.allclose(pd.read_csv(tmp_path / "s5" / "predictions.csv")["pred_magnitude"], p0["pred_magnitude"])
    assert other["seed"] == 5
