"""The native backend on a scene from the physical simulator (quakesar.synthetic.scene.simulate_event).

A tiny (reduction 32) IW2 scene of a real catalog event (Thessaly Mw 6.3) without atmosphere, so the
processed LOS displacement must match the Okada truth up to decorrelation noise; checks the
contract between the two stages: misregistration sense, reference-phase model, truth copying, sign.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from quakesar.interferogram.canonical import read_interferogram
from quakesar.interferogram.native.pipeline import process_scene

scene_mod = pytest.importorskip("quakesar.synthetic.scene")

EVENT = {"id": "us7000df40", "time": "2021-03-03T10:16:08.000Z", "latitude": 39.73, "longitude": 22.21,
         "depth_km": 8.0, "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3, "place": "Thessaly"}
QUIET = {"reduction": 32, "subswaths": ["IW2"], "placement": "centred", "turbulence_std_m": [0.0, 0.0],
         "stratified_std_m_per_km": 0.0, "orbital_ramp_m_per_100km": 0.0, "temporal_baseline_days": [6],
         "quicklook": False}


def test_simulated_scene_end_to_end(tmp_path: Path) -> None:
    scene = tmp_path / "IW2.h5"
    scene_mod.simulate_event(EVENT, QUIET, 5, {"IW2": scene})
    out = tmp_path / "ifg.h5"
    process_scene(scene, out, {"unwrap": "skimage", "multilook": {"range": 4, "azimuth": 1}})
    ifg = read_interferogram(out)
    with h5py.File(scene) as f:
        true_offset = (float(f.attrs["misregistration_rows"]), float(f.attrs["misregistration_cols"]))
        truth_attrs = dict(f["truth"].attrs)
        scene_id = f.attrs["scene_id"]
    coreg = ifg.attrs["backend_parameters"]["coregistration"]
    assert abs(coreg["rows"] - true_offset[0]) < 0.05 and abs(coreg["cols"] - true_offset[1]) < 0.05
    assert ifg.attrs["scene_id"] == (scene_id.decode() if isinstance(scene_id, bytes) else scene_id)
    assert set(truth_attrs) <= set(ifg.truth["attrs"])
    los, truth = ifg.optional["los_displacement"], ifg.truth["los_displacement"]
    good = (ifg.coherence > 0.5) & np.isfinite(los)
    assert np.corrcoef(los[good], truth[good])[0, 1] > 0.95
    peak = np.unravel_index(np.argmax(np.abs(np.where(good, truth, 0))), truth.shape)
    assert np.sign(los[peak]) == np.sign(truth[peak])
    assert np.median(np.abs(los - truth)[good]) < 0.003
