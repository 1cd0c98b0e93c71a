"""The command-line entry points of the per-event rules (quakesar.rulejob and quakesar.<stage>.rule).

The whole chain through Snakemake is tested by test_workflow_e2e.py; here, that bad arguments stop
with a message naming the option, and that the native interferogram entry point processes each
subswath of an event into its own file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quakesar.rulejob import json_object, paired

ROOT = Path(__file__).resolve().parents[1]


def test_json_object_names_the_option():
    assert json_object("--cfg", '{"a": 1}') == {"a": 1}
    with pytest.raises(SystemExit, match="--record: not valid JSON"):
        json_object("--record", "{oops")
    with pytest.raises(SystemExit, match="--cfg: expected a JSON object, got list"):
        json_object("--cfg", "[1, 2]")


def test_paired_checks_the_lengths():
    assert paired(["IW1", "IW2"], "--scenes", [Path("a"), Path("b")]) == {"IW1": Path("a"), "IW2": Path("b")}
    assert paired(["IW1"], "--quicklooks", None) is None
    with pytest.raises(SystemExit, match=r"--outputs: 1 paths for 2 subswaths \(IW1 IW2\)"):
        paired(["IW1", "IW2"], "--outputs", [Path("a")])


def test_bad_record_stops_the_job_with_the_option_named(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "quakesar.patches.rule", "--record", "not json", "--cfg", "{}", "--log",
         str(tmp_path / "x.log"), "--h5", str(tmp_path / "p.h5"), "--csv", str(tmp_path / "p.csv"),
         "--summary", str(tmp_path / "p.json")],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert "--record: not valid JSON" in proc.stderr
    assert not (tmp_path / "p.h5").exists()


def test_native_entry_point_writes_one_interferogram_per_subswath(tmp_path):
    from quakesar.config import load_config
    from quakesar.interferogram.rule import main as ifg_main
    from quakesar.synthetic.rule import main as sim_main

    cfg = load_config(ROOT / ".test" / "config.yaml")
    record = {"id": "evtest", "latitude": 39.75, "longitude": 22.18, "depth_km": 8.0, "magnitude": 6.3,
              "magnitude_type": "mww", "mw": 6.3, "time": "2021-03-03T10:16:09.755Z", "type": "earthquake",
              "place": "test"}
    subswaths = ["IW1", "IW2"]
    scenes = [tmp_path / f"scene-{iw}.h5" for iw in subswaths]
    outs = [tmp_path / f"ifg-{iw}.h5" for iw in subswaths]
    assert sim_main(["--record", json.dumps(record), "--cfg", json.dumps(cfg["simulate"]), "--seed", "7",
                     "--log", str(tmp_path / "sim.log"), "--subswaths", *subswaths,
                     "--scenes", *map(str, scenes)]) == 0
    assert ifg_main(["native", "--cfg", json.dumps(cfg["interferogram"]), "--log", str(tmp_path / "ifg.log"),
                     "--subswaths", *subswaths, "--scenes", *map(str, scenes), "--outputs", *map(str, outs)]) == 0
    import h5py

    for iw, out in zip(subswaths, outs):
        with h5py.File(out, "r") as h5:
            assert h5.attrs["subswath"] == iw
    assert "IW2" in (tmp_path / "ifg.log").read_text()
