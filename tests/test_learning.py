"""The learning stage: its parts (losses, geometry of the targets, augmentation, heads, calibration,
intervals) and the whole gated and event-set estimators on a small dataset simulated with the project's
own physics (``tests/learning_data.py``), where the model must learn to detect signal-bearing patches (a test that fails
when the learning does not work), resume exactly, restart on changed data, and write their answers.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from learning_data import build
from quakesar.dataset.augment import Dihedral
from quakesar.geodesy import haversine_km, polar_to_latlon
from quakesar.learning.data import InputNorm, augment_batch, data_fingerprint, epoch_items, model_input
from quakesar.learning.event_level import Calibration, Intervals, conformal_quantile, geometric_median, patch_weights
from quakesar.learning.evaluate import EVENT_COLUMNS
from quakesar.learning.losses import pairwise_margin_ranking
from quakesar.learning.models import PatchNet, spatial_soft_argmax
from quakesar.learning.tasks import get_tasks, patch_axes
from quakesar.learning.train import TrainingInterrupted, train_config, train_run

CFG = {"epochs": 12, "batch_size": 32, "device": "cpu", "bootstrap": 200, "lr": 3e-3, "patience": 0, "negatives_per_positive": 1.0,
       "positives_per_event": 16,
       "set": {"epochs": 8, "batch_events": 16}}


# ----------------------------------------------------------------------------- parts


def test_ranking_pairs_only_between_events():
    pred = torch.tensor([0.0, 1.0, 0.5, 0.2])
    y = torch.tensor([1.0, 0.0, 2.0, 3.0])
    same = torch.tensor([0, 0, 1, 1])
    full = pairwise_margin_ranking(pred, y, 0.1)
    grouped = pairwise_margin_ranking(pred, y, 0.1, groups=same)
    i, j = torch.triu_indices(4, 4, 1)
    keep = same[i] != same[j]
    s = torch.sign(y[i] - y[j])[keep]
    expect = torch.clamp(0.1 - s * (pred[i] - pred[j])[keep], min=0).mean()
    assert torch.isclose(grouped, expect) and not torch.isclose(grouped, full)
    assert float(pairwise_margin_ranking(pred[:2], y[:2], 0.1, groups=same[:2])) == 0.0


def test_weighted_geometric_median_and_weights():
    pts = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [100.0, 100.0]])
    np.testing.assert_allclose(geometric_median(pts, np.array([1.0, 1.0, 1.0, 0.0])), geometric_median(pts[:3]), atol=1e-6)
    assert np.linalg.norm(geometric_median(pts, np.array([0.0, 0.0, 0.0, 1.0])) - pts[3]) < 1e-9
    w = patch_weights(np.array([0.9, 0.1, 0.0]), 2.0)
    np.testing.assert_allclose(w, [0.81 / 0.82, 0.01 / 0.82, 0.0])
    np.testing.assert_allclose(patch_weights(np.zeros(4), 2.0), 0.25)


def test_calibration_and_conformal_intervals():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    raw = np.clip(np.where(y, 0.95, 0.6) + rng.normal(0, 0.02, 400), 0.01, 0.99)   # over-confident raw scores
    cal = Calibration.fit(raw, y.astype(float))
    p = cal.apply(raw)
    assert cal.fitted and abs(p[~y].mean() - 0.0) < 0.1 and abs(p[y].mean() - 1.0) < 0.1
    assert Calibration.fit(raw[:5], np.zeros(5)).fitted is False
    q = conformal_quantile(np.arange(1, 101, dtype=float))
    assert q["value"] == 96.0 and q["exact"]
    assert conformal_quantile(np.arange(1.0, 6.0)) == {"value": 5.0, "n": 5, "exact": False}
    val = pd.DataFrame({"fallback": [0] * 30 + [1] * 30, "error_km": np.r_[np.arange(30.0), 100 + np.arange(30.0)],
                        "magnitude_error": np.r_[np.full(30, 0.1), np.full(30, 0.5)]})
    iv = Intervals.fit(val)
    test = iv.apply(pd.DataFrame({"fallback": [0, 1], "pred_magnitude": [6.0, 6.0]}))
    assert test["epicentre_r95_km"].tolist() == [29.0, 129.0]
    np.testing.assert_allclose(test["pred_magnitude_hi"], [6.1, 6.5])


def test_augmentation_moves_the_epicentre_with_the_image():
    """A bright pixel at the epicentre's image position stays at the transformed (u, v) for all 8 transforms."""
    size = 16
    u, v = -0.4375, 0.5625                     # pixel centre (col 4, row 12) in normalised coordinates
    col, row = int((u + 1) * size / 2), int((v + 1) * size / 2)
    x = torch.zeros(8, 3, size, size)
    x[:, 0, row, col] = 1.0
    uv = torch.tensor([[u, v]] * 8)
    draws = np.arange(8)
    xa, uva = augment_batch(x, uv, draws)
    for k in range(8):
        r, c = np.unravel_index(int(torch.argmax(xa[k, 0])), (size, size))
        exp_u, exp_v = (2 * c + 1) / size - 1, (2 * r + 1) / size - 1
        assert np.allclose(uva[k].numpy(), [exp_u, exp_v], atol=1e-6), (Dihedral.from_index(k), uva[k], exp_u, exp_v)


def test_model_input_is_a_unit_phasor_and_standard_coherence():
    raw = torch.tensor([[[[0.5, 0.8]], [[3.0, 0.0]], [[4.0, 0.0]]]])   # [1, 3, 1, 2]; the second pixel has z = 0
    x = model_input(raw, InputNorm(0.5, 0.25))
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), [0.0, 0.6, 0.8], atol=1e-6)
    np.testing.assert_allclose(x[0, :, 0, 1].numpy(), [1.2, 0.0, 0.0], atol=1e-6)


def test_heads_and_spatial_soft_argmax():
    f = torch.full((1, 2, 4, 4), -50.0)
    f[0, 0, 3, 1] = 50.0                        # row 3, col 1 -> u = -0.25, v = 0.75
    kp = spatial_soft_argmax(f)
    assert torch.allclose(kp[0, [0, 2]], torch.tensor([-0.25, 0.75]), atol=1e-4)
    for name in ("smallcnn", "resnet18"):
        net = PatchNet(name, 3, 32)
        out = net(torch.randn(4, 3, 32, 32), torch.zeros(4, 1))
        assert out["logit"].shape == (4,) and out["uv"].shape == (4, 2) and out["mw"].shape == (4,) and out["emb"].shape == (4, 128)


def test_epoch_items_balance():
    sig = np.r_[np.ones(10), np.zeros(90)].astype(np.float32)
    items = epoch_items(sig, np.random.default_rng(0), 2.0, None)
    assert set(np.flatnonzero(sig)) <= set(items) and len(items) == 30 and len(set(items)) == 30
    assert len(epoch_items(sig, np.random.default_rng(0), 2.0, 12)) == 12


def test_image_frame_targets_invert_to_the_epicentre(tmp_path):
    """epi_u/epi_v of real patch rows, mapped back through the corners, land on the epicentre (< 0.2 % of the distance)."""
    ds, _ = build(tmp_path, n_train=3, n_eval=2)
    t = pd.read_csv(ds / "index.csv")
    en = np.einsum("nij,nj->ni", patch_axes(t), t[["epi_u", "epi_v"]].to_numpy(float))
    la, lo = polar_to_latlon(t["center_lat"].to_numpy(), t["center_lon"].to_numpy(), en[:, 0] * 1e3, en[:, 1] * 1e3)
    err = haversine_km(t["epicenter_lat"], t["epicenter_lon"], la, lo)
    assert np.all(err <= 0.002 * t["distance_km"] + 0.01), err.max()


def test_config_needs_detection_and_valid_values():
    with pytest.raises(ValueError, match="detection"):
        get_tasks(["epicentre", "magnitude"])
    with pytest.raises(Exception, match="train.epochs"):
        train_config({"epochs": 0})


# ----------------------------------------------------------------------------- whole estimators


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("learn")
    return build(root, n_train=90, n_eval=24)


@pytest.fixture(scope="module")
def gated(data, tmp_path_factory):
    ds, ts = data
    out = tmp_path_factory.mktemp("gated") / "seed0"
    m = train_run(ds, "smallcnn", CFG, 0, out, trainingset_index=ts, progress=False)
    return out, m


def test_gated_model_learns_and_answers_every_test_event(gated):
    """At this size (90 training events, 16-px patches, ~450 steps) the model learns to detect signal-bearing
    patches (an untrained or broken one scores an AUC of 0.5); whether its event answers beat the baselines
    is measured where there is data enough for it, by the main job and the benchmark config (README)."""
    out, m = gated
    auc = m["test"]["detection"]["patch"]["roc_auc"]
    assert auc > 0.6, m["test"]["detection"]["patch"]
    hist = pd.read_csv(out / "history.csv")
    assert hist["train_loss"].iloc[-3:].mean() < hist["train_loss"].iloc[:3].mean()
    det = m["test"]["epicentre"]["detectable"]
    assert det["n"] >= 5 and np.isfinite(det["error_km_median"]["value"]) and np.isfinite(det["paired_difference_km"]["value"])
    ev = pd.read_csv(out / "events.csv")
    assert list(ev.columns[: len(EVENT_COLUMNS)]) == list(EVENT_COLUMNS)
    assert ev["p_detectable"].between(0, 1).all() and ev["fallback"].isin([0, 1]).all()
    assert (ev["pred_magnitude_lo"] <= ev["pred_magnitude"]).all() and (ev["epicentre_r95_km"] > 0).all()
    fb = ev[ev["fallback"] == 1]
    np.testing.assert_allclose(fb["pred_lat"], fb["baseline_lat"])        # flagged events get the fallback answer
    assert {"checkpoint.pt", "metrics.json", "predictions.csv", "history.csv", "val_events.csv", "event_maps.png"} <= {p.name for p in out.iterdir()}


def test_resume_is_exact_and_changed_data_restarts(data, gated, tmp_path):
    ds, ts = data
    cfg = {**CFG, "epochs": 2}
    full = train_run(ds, "smallcnn", cfg, 1, tmp_path / "a", trainingset_index=ts, progress=False, make_figures=False)
    with pytest.raises(TrainingInterrupted):
        train_run(ds, "smallcnn", cfg, 1, tmp_path / "b", trainingset_index=ts, progress=False, make_figures=False, stop_after_epoch=1)
    resumed = train_run(ds, "smallcnn", cfg, 1, tmp_path / "b", trainingset_index=ts, progress=False, make_figures=False)
    a, b = (torch.load(p / "checkpoint.pt", weights_only=False)["model"] for p in (tmp_path / "a", tmp_path / "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full["best_epoch"] == resumed["best_epoch"]
    # the same run directory on changed data (one training event fewer): a fresh run, not a resume
    ts2 = tmp_path / "ts2"
    shutil.copytree(ts.parent, ts2)
    idx = pd.read_csv(ts2 / "index.csv")
    idx[idx["event_id"] != idx["event_id"].iloc[0]].to_csv(ts2 / "index.csv", index=False)
    again = train_run(ds, "smallcnn", cfg, 1, tmp_path / "b", trainingset_index=ts2 / "index.csv", progress=False, make_figures=False)
    assert again["data_fingerprint"] != resumed["data_fingerprint"] and again["epochs_run"] == 2
    hist = pd.read_csv(tmp_path / "b" / "history.csv")
    assert hist["epoch"].tolist() == [1, 2]


def test_set_model_answers_every_test_event(data, gated, tmp_path):
    from quakesar.learning.setmodel import train_set_run

    ds, ts = data
    out, gm = gated
    m = train_set_run(out, ds, "smallcnn", CFG, 0, tmp_path / "set", trainingset_index=ts, progress=False)
    ev = pd.read_csv(tmp_path / "set" / "events.csv")
    assert len(ev) == gm["n_test_events"] and ev["p_detectable"].between(0, 1).all()
    det = m["test"]["epicentre"]["detectable"]
    assert det["n"] >= 5 and np.isfinite(det["error_km_median"]["value"])
    preds = pd.read_csv(tmp_path / "set" / "predictions.csv")
    np.testing.assert_allclose(preds.groupby("event_id")["weight"].sum(), 1.0, atol=1e-5)


def test_ablation_and_report(data, gated, tmp_path):
    from quakesar.learning.ablation import summarise
    from quakesar.learning.report import build_report

    ds, ts = data
    out, _ = gated
    lam0 = tmp_path / "lambda0_seed0"
    train_run(ds, "smallcnn", CFG, 0, lam0, ranking_lambda=0.0, trainingset_index=ts, progress=False, make_figures=False)
    res = summarise([lam0, out], tmp_path / "ranking.json", tmp_path / "ranking.png", 200)
    c = res["comparisons"][0]
    assert c["lambda"] == 1.0 and c["n_seeds"] == 1 and c["detectable"]["n_events"] >= 1
    assert np.isfinite(c["mae_difference"]["value"])
    summary = build_report([out / "metrics.json"], tmp_path / "ranking.json", tmp_path / "report")
    text = summary.read_text()
    assert "Seed-pooled" in text and "detectable" in text and "Ranking ablation" in text and "Test-event answers" in text
    assert json.loads((out / "metrics.json").read_text())["estimator"] == "gated"


def test_data_fingerprint_follows_content_not_file_times(tmp_path):
    """The resume fingerprint (stored in checkpoint.pt and metrics.json) is the same for the same bytes
    written at another time (a SLURM run equals a local one) and changes with one changed pixel byte."""
    index, pixels = tmp_path / "index.csv", tmp_path / "p.h5"
    index.write_text("path\n" + str(pixels) + "\n")
    pixels.write_bytes(bytes(range(256)) * 64)
    table = pd.DataFrame({"path": [str(pixels)]})
    first = data_fingerprint([index], table)
    os.utime(pixels, ns=(1, 1))
    assert data_fingerprint([index], table) == first
    raw = bytearray(pixels.read_bytes())
    raw[1000] ^= 1
    pixels.write_bytes(bytes(raw))
    assert data_fingerprint([index], table) != first
