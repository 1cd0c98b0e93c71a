"""Snakemake itself on the .test/external scenario: products built by .test/external/make_products.py
(a LiCSAR frame and a zipped HyP3 INSAR_GAMMA product found by the directory convention for
us7000df40, a raw float32 + .rsc grid with the opposite phase sign named in the config for
nn00725272), imported and tiled by the unchanged patches rule; then a dry run of the whole DAG,
and a start-up error for a config naming a product that does not exist.

Marked ``slow``: five Snakemake invocations, about 35 s on the idle 2-core VM, 70 s at load 12.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / ".test" / "external"


def _snakemake(work: Path, *args: str, check: bool = True, configfile: str = "config.yaml") -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [*([str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]), "-s", str(ROOT / "Snakefile"),
           "-d", str(work), "--configfile", str(work / configfile), "--cores", "2", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("external")
    shutil.copy(SCENARIO / "config.yaml", work / "config.yaml")
    subprocess.run([sys.executable, str(SCENARIO / "make_products.py"), str(work)], check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    _snakemake(work, "results/patches/us7000df40.csv", "results/patches/nn00725272.csv")
    return work


def test_products_become_canonical_interferograms_and_patches(work: Path) -> None:
    ifgs = sorted(p.name for p in (work / "results" / "interferograms" / "us7000df40").glob("*.h5"))
    assert len(ifgs) == 4 and sum(n.endswith(".geo.h5") for n in ifgs) == 2
    df = pd.read_csv(work / "results" / "patches" / "us7000df40.csv")
    sources = set(df.source_file)
    assert len(sources) == 2 and all(s.startswith("ext_") and not s.endswith(".geo.h5") for s in sources)
    assert set(df.flight_direction) == {"ascending"} and (df.valid_fraction >= 0.5).all()
    assert df.distance_km.min() < 6.0  # the products are centred on the epicentre
    with h5py.File(work / "results" / "patches" / "us7000df40.h5") as f:
        x = f["patches"][()]
        channels = list(yaml.safe_load(f.attrs["channels"]))
    assert x.shape == (len(df), 3, 16, 16) and channels == ["coherence", "i", "q"]
    assert np.isfinite(x).all()
    mc = pd.read_csv(work / "results" / "patches" / "nn00725272.csv")
    assert len(mc) >= 1 and set(mc.flight_direction) == {"descending"}
    log = (work / "logs" / "external" / "nn00725272" / "geo_20200511_20200517.log").read_text()
    assert "phase_sign range_decrease_positive -> quakesar's (x-1)" in log
    with h5py.File(work / "results" / "interferograms" / "nn00725272" / "ext_geo_20200511_20200517.h5") as f:
        assert f.attrs["variant"] == "pseudo_radar" and f.attrs["backend"] == "external"
        unw = f["unwrapped"][()]
    assert np.nanmin(unw) < -5.0  # the uplift bump, in quakesar's sign, after the sign flip


def test_rerun_does_nothing_and_whole_dag_plans(work: Path) -> None:
    out = _snakemake(work, "results/patches/us7000df40.csv", "results/patches/nn00725272.csv", "--dry-run")
    assert "Nothing to be done" in out.stdout + out.stderr
    plan = _snakemake(work, "--dry-run").stdout
    for rule in ("dataset", "train", "report", "catalog"):
        assert rule in plan
    assert "import_external" not in plan.split("Job stats:")[-1]  # all done already
    # editing one event's product entry re-runs that event's import only
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    cfg["external"]["events"]["nn00725272"][0]["heading_deg"] = -166.0
    (work / "edited.yaml").write_text(yaml.safe_dump(cfg))
    edited = _snakemake(work, "results/patches/us7000df40.csv", "results/patches/nn00725272.csv", "--dry-run",
                        configfile="edited.yaml").stdout
    jobs = [ln.split("wildcards:")[1].strip() for ln in edited.splitlines() if "wildcards:" in ln and "product=" in ln]
    assert jobs and all("event=nn00725272" in j for j in jobs)


def test_start_up_error_for_a_missing_product(work: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    cfg["external"]["events"]["nn00725272"][0]["coherence"] = "data/manual/nn00725272/none.cor"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    shutil.copytree(work / "data", tmp_path / "data")
    out = _snakemake(tmp_path, "-n", check=False)
    assert out.returncode != 0
    assert "external.events.nn00725272[0].coherence" in out.stdout + out.stderr and "none.cor does not exist" in out.stderr + out.stdout


def test_cli_gives_the_rules_patches(work: Path, tmp_path: Path, monkeypatch) -> None:
    """``quakesar import-external --patches`` runs the same functions as the rules: same patches."""
    from quakesar.cli import main

    monkeypatch.chdir(work)
    assert main(["--config", str(work / "config.yaml"), "import-external", "--event", "us7000df40",
                 "--results", str(tmp_path), "--patches", "--no-quicklook"]) == 0
    ours = pd.read_csv(tmp_path / "patches" / "us7000df40.csv")
    rule = pd.read_csv(work / "results" / "patches" / "us7000df40.csv")
    assert list(ours.patch_id) == list(rule.patch_id)
    cols = [c for c in rule.columns if c.startswith("corner_")]
    np.testing.assert_allclose(ours[cols].to_numpy(), rule[cols].to_numpy(), atol=1e-9)
    assert main(["--config", str(work / "config.yaml"), "external-products", "--events", "nn00725272"]) == 0
