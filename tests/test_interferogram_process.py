"""The interferogram stage around the native backend: canonical output, backend dispatch, CLI, Snakemake rule.

The SNAP backend cannot run here (no ``gpt``); its dispatch is tested up to the call boundary with a
recording stand-in for ``quakesar.interferogram.snap.pipeline.process_pair``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from quakesar.config import fill_defaults, load_schema
from quakesar.interferogram import process as process_mod
from quakesar.interferogram.canonical import REQUIRED_ATTRS, read_interferogram
from quakesar.interferogram.cli import register_cli
from quakesar.interferogram.native.pipeline import process_scene
from quakesar.interferogram.native.scene import open_scene
from quakesar.interferogram.native.synthetic_pair import PairSpec, gaussian_uplift, write_pair
from quakesar.interferogram.process import process_interferogram

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scene") / "IW2.h5"
    write_pair(path, PairSpec(lines=203, samples=322, truth_los=gaussian_uplift(0.02, 100, 160, 40, 80),
                              misregistration=(0.2, 0.1), event_id="ev1", truth_attrs={"mw": 6.1, "mechanism": "thrust"}))
    return path


def test_native_writes_canonical_interferogram(scene, tmp_path):
    out, png = tmp_path / "ifg.h5", tmp_path / "ifg.png"
    process_interferogram("native", out, {"multilook": {"range": 4, "azimuth": 2}}, png, scene_h5=scene)
    ifg = read_interferogram(out)
    assert set(REQUIRED_ATTRS) <= set(ifg.attrs)
    assert ifg.shape == (101, 80)  # floor(203 / 2), floor(322 / 4)
    assert ifg.attrs["backend"] == "native" and ifg.attrs["scene_id"] == "ev1-testpair"
    assert (ifg.attrs["looks_range"], ifg.attrs["looks_azimuth"]) == (4, 2)
    assert ifg.attrs["range_pixel_spacing_m"] == pytest.approx(4 * 2.329562)
    params = ifg.attrs["backend_parameters"]
    assert abs(params["coregistration"]["rows"] - 0.2) < 0.05 and params["config"]["goldstein"]["alpha"] == 1.0
    assert ifg.truth["attrs"]["mw"] == 6.1 and ifg.truth["attrs"]["mechanism"] == "thrust"
    # truth is the scene's truth multilooked the same way
    with h5py.File(scene) as f:
        full = f["truth/los_displacement"][()]
    assert ifg.truth["los_displacement"][10, 20] == pytest.approx(full[20:22, 80:84].mean(), rel=1e-5)
    # geolocation of multilooked pixel (k, m) = scene geolocation at full-resolution (2k + 0.5, 4m + 1.5)
    with open_scene(scene) as sc:
        for grid, ml in ((sc.latitude, ifg.latitude), (sc.longitude, ifg.longitude), (sc.incidence, ifg.incidence)):
            assert ml.at(50.0, 40.0) == pytest.approx(grid.at(100.5, 161.5), abs=1e-9)
    assert 0 < float(np.mean(ifg.coherence)) <= 1
    assert png.stat().st_size > 5000


def test_blocks_and_threads_do_not_change_the_result(scene, tmp_path):
    """Block-wise processing with halos equals one whole block (to the FFT-resampling halo error), and
    threads change nothing at all."""
    cfg = {"multilook": {"range": 4, "azimuth": 1}}
    runs = {}
    for name, block, threads in (("whole", 4096, 1), ("blocks", 64, 1), ("threads", 64, 2)):
        process_scene(scene, tmp_path / f"{name}.h5", {**cfg, "block_lines": block}, threads=threads)
        runs[name] = read_interferogram(tmp_path / f"{name}.h5")
    a, b, c = runs["whole"], runs["blocks"], runs["threads"]
    assert np.array_equal(b.i, c.i) and np.array_equal(b.coherence, c.coherence)
    good = a.coherence > 0.5
    dphi = np.angle((a.i + 1j * a.q) * np.conj(b.i + 1j * b.q))
    assert np.percentile(np.abs(dphi[good]), 99) < 0.05
    assert np.max(np.abs(a.coherence - b.coherence)) < 0.02


def test_bad_config_is_rejected_before_work(scene, tmp_path):
    with pytest.raises(ValueError, match=r"interferogram\.unwrap: 'magic'.*goldstein\.fft_size"):
        process_scene(scene, tmp_path / "x.h5", {"unwrap": "magic", "goldstein": {"fft_size": 30}})
    assert not (tmp_path / "x.h5").exists()


def test_dispatch_errors(scene, tmp_path):
    with pytest.raises(ValueError, match="backend"):
        process_interferogram("gamma", tmp_path / "x.h5", {})
    with pytest.raises(ValueError, match="scene_h5"):
        process_interferogram("native", tmp_path / "x.h5", {})
    with pytest.raises(ValueError, match="pairs_json"):
        process_interferogram("snap", tmp_path / "x.h5", {}, scene_h5=scene)


def test_snap_dispatch_passes_the_arguments(monkeypatch, tmp_path):
    """Boundary test: SNAP cannot run here, so the SNAP pipeline module is replaced by a recorder."""
    calls = []

    class FakeSnap:
        @staticmethod
        def process_pair(*args):
            calls.append(args)

    real_import = process_mod.importlib.import_module
    monkeypatch.setattr(process_mod.importlib, "import_module",
                        lambda name: FakeSnap if name == "quakesar.interferogram.snap.pipeline" else real_import(name))
    process_interferogram("snap", tmp_path / "o.h5", {"backend": "snap"}, tmp_path / "o.png",
                          pairs_json=tmp_path / "p.json", event={"id": "ev"}, subswath="IW1",
                          slc_paths=["a.zip", "b.zip"], workdir=tmp_path / "w", log_path=tmp_path / "l.log")
    assert calls == [(tmp_path / "p.json", {"id": "ev"}, "IW1", [Path("a.zip"), Path("b.zip")], tmp_path / "o.h5",
                      {"backend": "snap"}, tmp_path / "w", tmp_path / "l.log", tmp_path / "o.png")]


def test_cli_native(scene, tmp_path):
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli.h5"
    args = parser.parse_args(["interferogram", "--scene", str(scene), "--out", str(out)])
    cfg = fill_defaults({}, load_schema())
    assert args.handler(args, cfg) == 0
    assert read_interferogram(out).attrs["backend"] == "native"
    assert out.with_suffix(".png").is_file()
    bad = parser.parse_args(["interferogram", "--out", str(out)])
    with pytest.raises(ValueError, match="--scene"):
        bad.handler(bad, cfg)


@pytest.mark.skipif(shutil.which("snakemake", path=str(Path(sys.executable).parent)) is None, reason="no snakemake")
def test_snakemake_rule_runs_native(tmp_path):
    """The real workflow (Snakefile, common.smk, rule and its quakesar entry point): one event, one subswath, tiny config."""
    override = {"catalog": {"event_ids": ["us7000df40"]}, "simulate": {"subswaths": ["IW2"]}}
    (tmp_path / "override.yaml").write_text(json.dumps(override))
    exe = str(Path(sys.executable).parent / "snakemake")
    proc = subprocess.run([exe, "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--cores", "2",
                           "results/interferograms/us7000df40/IW2.h5",
                           "--configfile", str(REPO / ".test/config.yaml"), str(tmp_path / "override.yaml")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ifg = read_interferogram(tmp_path / "results/interferograms/us7000df40/IW2.h5")
    with h5py.File(tmp_path / "results/scenes/us7000df40/IW2.h5", "r") as f:
        scene_shape = f["reference"].shape
    assert ifg.shape == (scene_shape[0], scene_shape[1] // 4) and ifg.attrs["event_id"] == "us7000df40" and ifg.attrs["backend"] == "native"
    assert ifg.truth is not None and ifg.truth["los_displacement"].shape == ifg.shape
    assert (tmp_path / "results/interferograms/us7000df40/IW2.png").is_file()
    # synthetic source: one interferogram job per event (all its subswaths), logged per event
    assert (tmp_path / "results/benchmarks/interferogram/us7000df40.tsv").is_file()
    assert "written" in (tmp_path / "logs/interferogram/us7000df40.log").read_text()
