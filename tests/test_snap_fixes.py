"""Fixes of the real SNAP path found by an audit against SNAP's source (issue 14). Each test failed
before its fix. SNAP itself cannot run here: the boundary is SNAP's documented behaviour (its Java
source, cited in the modules) with the stand-in ``gpt`` of tests/test_snap_runner.py.

* pre-fetched orbit files land in the folder SNAP's Apply-Orbit-File searches
  (``<auxdata>/Orbits/Sentinel-1/POEORB/<S1x>/<yyyy>/<MM>/``), also across a month boundary;
* SNAP 10+ writes ``Secondary_Metadata``, older SNAP ``Slave_Metadata``: both are read;
* every DEM the config schema allows is accepted by the graph builder ("Copernicus 90m Global DEM").
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from quakesar.interferogram.snap.convert import dimap_to_interferogram
from quakesar.interferogram.snap.graph import DEM_NAMES, build_nodes, resolve_dem
from quakesar.interferogram.snap.orbits import install_orbits, snap_orbit_dir
from quakesar.interferogram.snap.pipeline import process_pair

from test_snap_dimap import ABSTRACTED, _scene, write_snap_ifg_dimap
from test_asf_workflow import snakemake, workdir  # noqa: F401  (workdir: the ASF DAG fixture)
from test_snap_runner import REF_ZIP, SEC_ZIP, _WRITES_DIMAP, _pairs, _stand_in

ROOT = Path(__file__).resolve().parents[1]
POEORB = "S1A_OPER_AUX_POEORB_OPOD_20250426T070640_V20250405T225942_20250407T005942.EOF"


def _manifest(tmp_path: Path, scene: str, mission: str, start: str, name: str) -> Path:
    orbit_dir = tmp_path / "data" / "slc" / "orbits"
    orbit_dir.mkdir(parents=True, exist_ok=True)
    (orbit_dir / name).write_text("<?xml version='1.0'?><Earth_Explorer_File>orbit</Earth_Explorer_File>\n")
    manifest = orbit_dir / f"{scene}.json"
    manifest.write_text(json.dumps({"granule": scene, "mission": mission, "start": start, "orbit_type": "precise",
                                    "files": [str(orbit_dir / name)]}))
    return manifest


def test_orbit_folder_is_the_one_snap_searches(tmp_path: Path) -> None:
    aux = tmp_path / "aux"
    when = dt.datetime(2025, 4, 6, 2, 20, 8, tzinfo=dt.timezone.utc)
    assert snap_orbit_dir(aux, "S1A", when) == aux / "Orbits" / "Sentinel-1" / "POEORB" / "S1A" / "2025" / "04"
    assert snap_orbit_dir(aux, "S1C", when, "RESORB").parts[-4:] == ("RESORB", "S1C", "2025", "04")
    with pytest.raises(ValueError, match="mission"):
        snap_orbit_dir(aux, "S2A", when)


def test_process_pair_puts_prefetched_orbits_where_snap_looks(tmp_path: Path) -> None:
    """Before the fix the orbit manifests never reached SNAP (``process_pair`` had no way to take them)."""
    exe = _stand_in(tmp_path, _WRITES_DIMAP)
    aux = tmp_path / "snap-aux"
    cfg = {"coherence_window": {"range": 10, "azimuth": 3}, "goldstein": {"enabled": False},
           "snap": {"gpt": str(exe), "timeout_minutes": 1, "bursts": "epicentre", "auxdata_dir": str(aux)}}
    ref = _manifest(tmp_path, REF_ZIP.name[:67], "S1A", "2025-04-06T02:20:08Z", POEORB)
    sec_name = "S1A_OPER_AUX_POEORB_OPOD_20250508T070553_V20250417T225942_20250419T005942.EOF"
    sec = _manifest(tmp_path, SEC_ZIP.name[:67], "S1A", "2025-04-18T02:20:08Z", sec_name)
    out = tmp_path / "ifg" / "IW2.h5"
    log = tmp_path / "logs" / "ev1_IW2.log"
    process_pair(_pairs(tmp_path, {"IW2": [230135, 230136]}), {"id": "ev1"}, "IW2", [REF_ZIP, SEC_ZIP], out, cfg,
                 tmp_path / "work", log, orbit_manifests=[ref, sec])
    folder = aux / "Orbits" / "Sentinel-1" / "POEORB" / "S1A" / "2025" / "04"
    assert sorted(p.name for p in folder.iterdir()) == sorted([POEORB, sec_name])
    assert "orbit files for SNAP" in log.read_text() and out.is_file()
    # idempotent: a second installation leaves the identical copies alone
    mtime = (folder / POEORB).stat().st_mtime_ns
    install_orbits([ref], aux)
    assert (folder / POEORB).stat().st_mtime_ns == mtime


def test_orbit_of_a_scene_at_a_month_start_is_in_both_months(tmp_path: Path) -> None:
    """SNAP takes the month of the first state vector, which precedes the first line by minutes."""
    name = "S1C_OPER_AUX_POEORB_OPOD_20250621T070000_V20250531T225942_20250602T005942.EOF"
    m = _manifest(tmp_path, "S1C_IW_SLC__1SDV_20250601T000130_x", "S1C", "2025-06-01T00:01:30Z", name)
    placed = install_orbits([m], tmp_path / "aux")
    months = sorted({p.parent.relative_to(tmp_path / "aux").as_posix() for p in placed})
    assert months == ["Orbits/Sentinel-1/POEORB/S1C/2025/05", "Orbits/Sentinel-1/POEORB/S1C/2025/06"]


def test_orbit_file_snap_would_not_recognise_is_refused(tmp_path: Path) -> None:
    m = _manifest(tmp_path, "S1A_x", "S1A", "2025-04-06T02:20:08Z", "S1B_OPER_AUX_POEORB_OPOD_x.EOF")
    with pytest.raises(ValueError, match="S1A_OPER_AUX_POEORB_OPOD_"):
        install_orbits([m], tmp_path / "aux")
    with pytest.raises(ValueError, match="not an orbit manifest"):
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        install_orbits([bad], tmp_path / "aux")


@pytest.mark.parametrize("element", ["Secondary_Metadata", "Slave_Metadata"])
def test_secondary_time_from_snap14_and_older_metadata(tmp_path: Path, element: str) -> None:
    """SNAP 14 names the element Secondary_Metadata; before the fix only Slave_Metadata was read and the
    secondary time silently fell back to the pairs file."""
    i, q, coh, grids, step = _scene(rows=20, cols=30)
    dim = tmp_path / "x.dim"
    write_snap_ifg_dimap(dim, i, q, coh, grids, (0.5, 0.5), step, ABSTRACTED, "18-APR-2025 02:20:10.512000")
    dim.write_text(dim.read_text(encoding="latin-1").replace("Slave_Metadata", element), encoding="latin-1")
    pair = {"reference": {"start": "2025-04-06T02:20:08Z"}, "secondary": {"start": "2025-04-18T02:20:08Z"},
            "track": 108, "flight_direction": "ascending"}
    ifg = dimap_to_interferogram(dim, {"id": "e1"}, pair, "IW2", {})
    assert ifg.attrs["secondary_time"] == "2025-04-18T02:20:10.512000Z"


def test_every_dem_the_schema_allows_builds_a_graph() -> None:
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    allowed = schema["properties"]["interferogram"]["properties"]["snap"]["properties"]["dem"]["enum"]
    assert "Copernicus 90m Global DEM" in allowed
    for name in allowed:
        assert resolve_dem(name) in DEM_NAMES.values()
    nodes = build_nodes(REF_ZIP, SEC_ZIP, Path("/tmp/x.dim"), "IW2", {"snap": {"dem": "Copernicus 90m Global DEM"}})
    dems = {n.id: n.parameters.get("demName") for n in nodes if "demName" in n.parameters}
    assert dems and set(dems.values()) == {"Copernicus 90m Global DEM"}


def test_rule_entry_point_hands_the_orbit_manifests_to_snap(tmp_path: Path) -> None:
    """The interferogram rule's command (workflow/rules/interferogram.smk adds --orbits with
    download.orbits) reaches process_pair: the files end up in SNAP's folder before gpt runs."""
    from quakesar.interferogram.rule import main

    exe = _stand_in(tmp_path, _WRITES_DIMAP)
    aux = tmp_path / "aux"
    cfg = {"coherence_window": {"range": 10, "azimuth": 3}, "goldstein": {"enabled": False},
           "snap": {"gpt": str(exe), "timeout_minutes": 1, "bursts": "epicentre", "auxdata_dir": str(aux)}}
    ref = _manifest(tmp_path, REF_ZIP.name[:67], "S1A", "2025-04-06T02:20:08Z", POEORB)
    out = tmp_path / "IW2.h5"
    assert main(["snap", "--cfg", json.dumps(cfg), "--log", str(tmp_path / "job.log"), "--record", '{"id": "ev1"}',
                 "--subswaths", "IW2", "--pairs", str(_pairs(tmp_path, {"IW2": [230135, 230136]})),
                 "--slcs", str(REF_ZIP), str(SEC_ZIP), "--workdir", str(tmp_path / "w"),
                 "--gpt-log", str(tmp_path / "gpt.log"), "--outputs", str(out), "--orbits", str(ref)]) == 0
    assert (aux / "Orbits" / "Sentinel-1" / "POEORB" / "S1A" / "2025" / "04" / POEORB).is_file() and out.is_file()


@pytest.mark.slow
def test_snap_job_command_carries_the_orbit_manifests(workdir) -> None:
    """Snakemake plans the SNAP job with the orbit manifests as inputs and on its command line
    (download.orbits: true), on the ASF DAG of tests/test_asf_workflow.py (recorded ASF responses)."""
    work, doc = workdir
    ref, sec = doc["pairs"][0]["reference"]["scene"], doc["pairs"][0]["secondary"]["scene"]
    cfg = work / "orbits.yaml"
    cfg.write_text(yaml.safe_dump({"download": {"orbits": True}}))
    out = snakemake(work, "-n", "-p", "results/interferograms/nn00725272/IW3.h5", extra_config=cfg)
    text = out.stdout + out.stderr
    assert f"--orbits slc/orbits/{ref}.json slc/orbits/{sec}.json" in text, text[-3000:]
    plain = snakemake(work, "-n", "-p", "results/interferograms/nn00725272/IW3.h5")
    assert "--orbits" not in plain.stdout + plain.stderr
