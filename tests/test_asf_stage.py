"""ASF stage plumbing: config/sentinel1.yaml, orbit requests, SLC cleanup, the CLI and rule entry points.

No network: the orbit service (sentineleof) is replaced by a stand-in that records its arguments
(its real call signature is checked), ASF by recorded responses (see test_asf_search.py).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from quakesar.asf import cleanup, orbits, stage
from quakesar.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_sentinel1_config_validates_and_is_the_real_path():
    cfg = load_config(ROOT / "config" / "sentinel1.yaml")
    assert cfg["source"] == "asf" and cfg["interferogram"]["backend"] == "snap"
    assert {"nn00725272", "us7000df40"} <= set(cfg["catalog"]["event_ids"])
    assert cfg["search"]["polarisation"] == "VV" and cfg["search"]["window_days"] == 24
    assert cfg["download"]["max_concurrent"] >= 1 and cfg["download"]["dir"]
    text = (ROOT / "config" / "sentinel1.yaml").read_text().lower()
    assert "token:" not in text and "password" not in text  # never a secret in a config


def _pairs_file(tmp_path: Path) -> Path:
    doc = {"event_id": "ev1", "status": "ok", "pairs": [{
        "reference": {"scene": "S1B_IW_SLC__1SDV_20200501T141902_20200501T141929_021389_0289A1_CCD4", "platform": "Sentinel-1B",
                      "start": "2020-05-01T14:19:02Z", "url": "https://datapool.asf.alaska.edu/SLC/SB/x.zip", "bytes": 10, "md5": "0" * 32},
        "secondary": {"scene": "S1_372326_IW3_20180628T151555_VV_4673-BURST", "platform": "SENTINEL-1B",
                      "start": "2018-06-28T15:15:56Z", "url": "https://sentinel1-burst.asf.alaska.edu/a/IW3/VV/5.tiff", "bytes": 5, "md5": None},
        "granules": ["S1B_IW_SLC__1SDV_20200501T141902_20200501T141929_021389_0289A1_CCD4", "S1_372326_IW3_20180628T151555_VV_4673-BURST"],
        "subswaths": ["IW2", "IW3"]}]}
    p = tmp_path / "pairs" / "ev1.json"
    p.parent.mkdir(parents=True)
    p.write_text(json.dumps(doc))
    return p


def test_orbit_request_uses_mission_and_time(tmp_path):
    pj = _pairs_file(tmp_path)
    calls = []

    def fake_download_eofs(orbit_dts=None, missions=None, save_dir=".", orbit_type="precise"):
        calls.append((orbit_dts, missions, save_dir, orbit_type))
        f = Path(save_dir) / "S1B_OPER_AUX_POEORB_OPOD_20200521T110712_V20200430T225942_20200502T005942.EOF"
        f.write_text("<Earth_Explorer_File/>")
        return [f]

    # the stand-in accepts the keywords the real sentineleof function has
    from eof.download import download_eofs

    real = inspect.signature(download_eofs).parameters
    assert all(k in real for k in ("orbit_dts", "missions", "save_dir", "orbit_type"))
    files = orbits.fetch_orbits(pj, "S1B_IW_SLC__1SDV_20200501T141902_20200501T141929_021389_0289A1_CCD4",
                                tmp_path / "orb", tmp_path / "orb" / "g.json", download_fn=fake_download_eofs)
    (dts, missions, save_dir, kind), = calls
    assert missions == ["S1B"] and dts[0].isoformat() == "2020-05-01T14:19:02+00:00" and kind == "precise"
    assert orbits.load_manifest(tmp_path / "orb" / "g.json")["files"] == [str(files[0])]
    assert orbits.mission_of({"platform": "SENTINEL-1B", "scene": "S1_372326_IW3_x-BURST"}) == "S1B"
    with pytest.raises(ValueError, match="cannot tell the Sentinel-1 unit"):
        orbits.mission_of({"platform": "", "scene": "S1_372326_IW3"})
    with pytest.raises(RuntimeError, match="no precise orbit file"):
        orbits.fetch_orbits(pj, "S1_372326_IW3_20180628T151555_VV_4673-BURST", tmp_path / "o2", tmp_path / "o2" / "m.json",
                            download_fn=lambda **kw: [])


def test_cleanup_keeps_slcs_other_events_still_need(tmp_path):
    pj = _pairs_file(tmp_path)
    doc = json.loads(pj.read_text())
    doc["event_id"] = "ev2"
    doc["pairs"][0]["granules"] = doc["pairs"][0]["granules"][:1]  # ev2 shares the first SLC
    doc["pairs"][0]["subswaths"] = ["IW1"]
    (tmp_path / "pairs" / "ev2.json").write_text(json.dumps(doc))
    slc = tmp_path / "slc"
    slc.mkdir()
    a = slc / "S1B_IW_SLC__1SDV_20200501T141902_20200501T141929_021389_0289A1_CCD4.zip"
    b = slc / "S1_372326_IW3_20180628T151555_VV_4673-BURST.tiff"
    a.write_bytes(b"a")
    b.write_bytes(b"b")
    ifg = tmp_path / "interferograms"
    for iw in ("IW2", "IW3"):
        (ifg / "ev1").mkdir(parents=True, exist_ok=True)
        (ifg / "ev1" / f"{iw}.h5").write_bytes(b"")
    assert cleanup.cleanup_slcs(tmp_path / "pairs", ifg, slc) == [b]  # a is still needed by ev2
    assert a.exists() and not b.exists()
    (ifg / "ev2").mkdir()
    (ifg / "ev2" / "IW1.h5").write_bytes(b"")
    assert cleanup.cleanup_slcs(tmp_path / "pairs", ifg, slc, dry_run=True) == [a] and a.exists()
    assert cleanup.cleanup_slcs(tmp_path / "pairs", ifg, slc) == [a] and not a.exists()


def test_rule_entry_points_and_cli(tmp_path, monkeypatch, capsys):
    """run_search/run_download and the CLI call the same library functions as the rules."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_asf_search import P0, SLC_STACK, fake_geo_search, load_products

    from quakesar.asf import search as search_mod

    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps({"id": "evcli", "time": "2020-05-10T12:00:00Z", "latitude": P0[0], "longitude": P0[1]}))
    monkeypatch.setattr(search_mod, "default_search_fn", fake_geo_search(load_products(SLC_STACK)))
    doc = stage.run_search(ev, tmp_path / "out" / "evcli.json", load_config(ROOT / "config" / "sentinel1.yaml")["search"])
    assert doc["status"] == "ok" and (tmp_path / "out" / "evcli.json").is_file()

    import argparse

    from quakesar.asf.cli import register_cli

    config = load_config(ROOT / "config" / "sentinel1.yaml")

    def main(argv):  # the way quakesar.cli dispatches: parse, then handler(args, config)
        parser = argparse.ArgumentParser()
        register_cli(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(argv[2:])
        return args.handler(args, config)

    rc = main(["--config", str(ROOT / "config" / "sentinel1.yaml"), "search", "--event", str(ev), "--out", str(tmp_path / "cli.json")])
    assert rc == 0 and "S1_T013D_20200501_20200513" in capsys.readouterr().out
    assert json.loads((tmp_path / "cli.json").read_text()) == json.loads((tmp_path / "out" / "evcli.json").read_text())
    with pytest.raises(ValueError, match="kind must be"):
        stage.run_download("bogus", {}, tmp_path / "x", {})
    rc = main(["--config", str(ROOT / "config" / "sentinel1.yaml"), "burst-coverage",
               str(ROOT / "tests/fixtures/asf/safe/S1A_IW_SLC__1SDV_20200511T135117_20200511T135144_032518_03C421_7768.zip"),
               "--lat", "38.169", "--lon", "-117.85"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["subswaths"] == ["IW3"]


def test_granule_index_finds_records_and_follows_changes(tmp_path):
    from quakesar.asf.download import GranuleIndex

    pj = _pairs_file(tmp_path)
    idx = GranuleIndex(str(tmp_path / "pairs" / "*.json"))
    ref = "S1B_IW_SLC__1SDV_20200501T141902_20200501T141929_021389_0289A1_CCD4"
    assert idx.record(ref)["md5"] == "0" * 32
    with pytest.raises(ValueError, match="no pairs file .* names it"):
        idx.record("S1A_NOT_THERE")
    # lookups while nothing changes cost a stat of the directory, not a rescan
    rebuilds = idx.rebuilds
    for _ in range(100):
        idx.record(ref)
    assert idx.rebuilds == rebuilds
    # a search rewriting the file (atomically, by rename, as the pipeline writes) is picked up
    doc = json.loads(pj.read_text())
    doc["pairs"][0]["reference"]["md5"] = "1" * 32
    tmp = pj.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    import os

    os.utime(tmp, (1, 1))  # a different mtime even on a coarse-timestamp file system
    os.replace(tmp, pj)
    os.utime(pj.parent, ns=(1, 1))  # ... and a different directory mtime
    assert idx.record(ref)["md5"] == "1" * 32
    # a removed pairs file no longer answers
    pj.unlink()
    with pytest.raises(ValueError, match="no pairs file .* names it"):
        idx.record(ref)
