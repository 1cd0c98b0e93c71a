"""The patch-level simulator against the full pipeline (simulate -> native interferogram -> patches) on the
same pair plan: identical geometry and labels, the same deformation and phase sign, comparable noise.

The full pipeline runs once on one real catalog event at a heavy reduction (32) so the file stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from quakesar.config import load_config
from quakesar.interferogram.native.pipeline import process_scene
from quakesar.patches.tiling import tile_event
from quakesar.synthetic.patchsim import PatchLayout, simulate_patches
from quakesar.synthetic.scene import plan_pair, simulate_event

ROOT = Path(__file__).resolve().parents[1]
EVENT = {"id": "us7000df40", "time": "2021-03-03T10:16:09.755Z", "latitude": 39.7546, "longitude": 22.1757, "depth_km": 8.0,
         "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3, "place": "Thessaly", "type": "earthquake"}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(config, plan, full-pipeline patch rows + pixels, patch-simulator rows + pixels) for one event."""
    cfg = load_config(ROOT / ".test" / "config.yaml")
    sim = {**cfg["simulate"], "placement": "centred", "turbulence_std_m": [0.004, 0.004]}
    tmp = tmp_path_factory.mktemp("patchsim")
    scenes = {iw: tmp / f"scene_{iw}.h5" for iw in ("IW2",)}
    sim["subswaths"] = ["IW2"]
    simulate_event(EVENT, sim, cfg["seed"], scenes)
    ifg = tmp / "IW2.h5"
    process_scene(scenes["IW2"], ifg, cfg["interferogram"], threads=1)
    tile_event(EVENT, [ifg], cfg["patches"], tmp / "p.h5", tmp / "p.csv")
    full = pd.read_csv(tmp / "p.csv")
    with h5py.File(tmp / "p.h5") as f:
        full_pix = f["patches"][()]
    plan = plan_pair(EVENT, sim, cfg["seed"])
    layout = PatchLayout.from_config(cfg["interferogram"], cfg["patches"])
    pix, rows, info = simulate_patches(EVENT, sim, layout, cfg["seed"], plan=plan)
    return cfg, sim, layout, full, full_pix, pd.DataFrame(rows), pix, info


def test_same_windows_geometry_and_labels(both):
    _, _, _, full, _, fast, _, _ = both
    assert list(fast["patch_id"]) == list(full["patch_id"])
    for col in ("corner_00_lat", "corner_01_lon", "corner_11_lat", "corner_10_lon", "center_lat", "center_lon", "epi_u", "epi_v",
                "distance_km", "incidence_deg"):
        np.testing.assert_allclose(fast[col], full[col], rtol=0, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(fast["turbulence_std_m"], full["turbulence_std_m"], rtol=1e-9)
    # the peak |LOS| per window: sub-samples vs interferogram pixels, within 5 % where it matters
    big = full["peak_abs_los_m"] > 0.005
    assert big.sum() >= 2
    np.testing.assert_allclose(fast.loc[big, "peak_abs_los_m"], full.loc[big, "peak_abs_los_m"], rtol=0.05)
    assert list(fast["signal"]) == list(full["signal"])


def test_phase_agrees_with_the_full_pipeline(both):
    """Same sign and pattern: the unit phasors of both correlate strongly on the signal-bearing patches."""
    _, _, _, full, full_pix, fast, pix, _ = both
    sig = np.flatnonzero(full["signal"].to_numpy() == 1)
    assert len(sig)
    for k in sig:
        a = pix[int(fast.loc[k, "h5_index"])]
        b = full_pix[int(full.loc[k, "h5_index"])]
        za, zb = a[1] + 1j * a[2], b[1] + 1j * b[2]
        za, zb = za / np.abs(za), zb / np.abs(zb)
        same, flipped = np.abs(np.mean(za * np.conj(zb))), np.abs(np.mean(za * zb))
        assert same > 0.6 and same > 3 * flipped, (k, same, flipped)
        assert abs(np.angle(np.mean(za * np.conj(zb)))) < 0.3
    # coherence channel: within 0.1 of the full pipeline's estimate on average
    assert abs(pix[:, 0].mean() - full_pix[:, 0].mean()) < 0.1


def test_deterministic_and_signal_free_when_small(both):
    cfg, sim, layout, _, _, fast, pix, _ = both
    pix2, rows2, _ = simulate_patches(EVENT, sim, layout, cfg["seed"], plan=plan_pair(EVENT, sim, cfg["seed"]))
    np.testing.assert_array_equal(pix, pix2)
    deep = {**EVENT, "id": "deep1", "mw": 4.5, "magnitude": 4.5, "depth_km": 25.0}
    pix3, rows3, info = simulate_patches(deep, sim, layout, cfg["seed"])
    assert info["peak_abs_los_m"] < 0.003
    assert all(r["signal"] == 0 for r in rows3)


def test_layout_refuses_channels_it_cannot_make():
    cfg = load_config(ROOT / ".test" / "config.yaml")
    with pytest.raises(ValueError, match="patch-level simulator"):
        PatchLayout.from_config(cfg["interferogram"], {**cfg["patches"], "channels": ["coherence", "unwrapped"]})


def test_offshore_event_is_incoherent(both):
    cfg, sim, layout, *_ = both
    sea = {**EVENT, "id": "sea1", "latitude": 36.0, "longitude": 18.5}   # Ionian Sea, far from land
    pix, rows, _ = simulate_patches(sea, sim, layout, cfg["seed"])
    z = pix[:, 1] + 1j * pix[:, 2]
    # no coherent phase anywhere: the mean phasor of each patch is near zero, the coherence at the estimator's bias
    assert np.abs(np.mean(z / np.abs(z), axis=(1, 2))).max() < 0.35
    assert pix[:, 0].mean() < 0.35
    assert json.dumps(rows[0]["event_id"]) == '"sea1"'
