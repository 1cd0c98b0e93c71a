"""End to end: the tiny configuration through Snakemake itself, and incremental catalog updates.

One complete run of the whole DAG (catalog -> synthetic scenes -> native interferograms -> patches ->
dataset -> training -> ablation -> report) on `.test/config.yaml`, with the catalog section pointed
at a three-event ComCat file; then dry runs after catalog edits prove that only new or changed
events are planned (the key user story of issue 2). Runs Snakemake as a user would, in a
temporary working directory.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "catalog" / "comcat_small.csv"
FIRST = ("us7000df40", "us2000bmcg", "nn00725272")
ADDED = "ci38457511"
PER_EVENT_RULES = {"simulate", "interferogram", "patches"}
AGGREGATE_RULES = {"catalog", "dataset", "trainingset_events", "trainingset_shard", "trainingset_index", "train", "train_set",
                   "ablation", "report", "all",
                   # the time-series stage evaluates on the catalog's events (its figures follow)
                   "timeseries_evaluate", "timeseries_figures"}

pytestmark = pytest.mark.slow


def _snakemake() -> list[str]:
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def _rows(ids) -> list[list[str]]:
    rows = list(csv.reader(FIXTURE.open()))
    by_id = {r[11]: r for r in rows[1:]}
    return [rows[0]] + [by_id[i] for i in ids]


def _write_catalog(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def run_snakemake(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [*_snakemake(), "-s", str(ROOT / "Snakefile"), "-d", str(work), "--cores", "2",
           "--configfile", str(ROOT / ".test" / "config.yaml"), str(work / "override.yaml"), *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def planned_jobs(work: Path) -> list[tuple[str, str | None]]:
    """(rule, event wildcard or None) for every job a dry run plans."""
    out = run_snakemake(work, "--dry-run")
    text = out.stdout + out.stderr
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        m = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not m:
            continue
        ev = re.search(r"wildcards:.*?event=([A-Za-z0-9_-]+)", block)
        jobs.append((m.group(1), ev.group(1) if ev else None))
    return jobs


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("tiny")
    _write_catalog(work / "catalog.csv", _rows(FIRST))
    override = {"catalog": {"path": "catalog.csv", "event_ids": [], "min_magnitude": 6.0, "max_depth_km": 30.0,
                            "limit": None}}
    (work / "override.yaml").write_text(yaml.safe_dump(override))
    run_snakemake(work)
    yield work
    shutil.rmtree(work, ignore_errors=True)


def test_tiny_run_produces_every_stage(tiny_run):
    res = tiny_run / "results"
    events = list(csv.DictReader((res / "catalog" / "events.csv").open()))
    assert sorted(e["id"] for e in events) == sorted(FIRST)
    for ev in FIRST:
        assert (res / "catalog" / "events" / f"{ev}.json").exists()
        for iw in ("IW1", "IW2", "IW3"):
            assert (res / "scenes" / ev / f"{iw}.h5").exists()
            assert (res / "interferograms" / ev / f"{iw}.h5").exists()
        assert (res / "patches" / f"{ev}.csv").exists()
    assert (res / "dataset" / "index.csv").exists()
    assert list((res / "models").rglob("metrics.json"))
    assert (res / "report").exists()


def test_complete_run_plans_nothing(tiny_run):
    assert planned_jobs(tiny_run) == []


def test_appended_event_plans_only_its_jobs_and_aggregates(tiny_run):
    original = (tiny_run / "catalog.csv").read_text()
    try:
        _write_catalog(tiny_run / "catalog.csv", _rows((*FIRST, ADDED)))
        jobs = planned_jobs(tiny_run)
        per_event = {(r, e) for r, e in jobs if r in PER_EVENT_RULES}
        assert per_event and {e for _, e in per_event} == {ADDED}
        assert {r for r, _ in per_event} == PER_EVENT_RULES
        assert {r for r, e in jobs if r not in PER_EVENT_RULES} <= AGGREGATE_RULES
    finally:
        (tiny_run / "catalog.csv").write_text(original)


def test_changed_magnitude_reruns_only_that_event(tiny_run):
    original = (tiny_run / "catalog.csv").read_text()
    try:
        rows = _rows(FIRST)
        rows[1][4] = str(float(rows[1][4]) + 0.1)  # us7000df40: 6.3 -> 6.4
        _write_catalog(tiny_run / "catalog.csv", rows)
        jobs = planned_jobs(tiny_run)
        per_event = {e for r, e in jobs if r in PER_EVENT_RULES}
        assert per_event == {"us7000df40"}
        assert {r for r, e in jobs if r in PER_EVENT_RULES} == PER_EVENT_RULES
    finally:
        (tiny_run / "catalog.csv").write_text(original)


def test_bad_config_key_stops_with_dotted_path(tiny_run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"patches": {"windw": 10}}))
    proc = subprocess.run([*_snakemake(), "-s", str(ROOT / "Snakefile"), "-d", str(tiny_run), "-n", "--cores", "1",
                           "--configfile", str(ROOT / ".test" / "config.yaml"), str(bad)],
                          capture_output=True, text=True, cwd=tiny_run)
    assert proc.returncode != 0
    assert "patches.windw: unknown key" in proc.stdout + proc.stderr


def test_predict_answers_an_event_from_its_interferograms(tiny_run, tmp_path):
    """Issue 14: `quakesar predict` gives every model's event answer (verdict, epicentre, Mw with intervals)
    on an event's canonical interferograms, with the catalog epicentre, and a map."""
    ev = FIRST[0]
    res = tiny_run / "results"
    runs = sorted(str(p.parent) for p in (res / "models").glob("*/*/seed0/checkpoint.pt"))
    assert {Path(r).parts[-3] for r in runs} == {"gated", "set"}
    out = tmp_path / "answer.json"
    proc = subprocess.run([sys.executable, "-m", "quakesar.cli", "--config", str(ROOT / ".test" / "config.yaml"), "predict",
                           "--models", *runs, "--interferograms", *sorted(str(p) for p in (res / "interferograms" / ev).glob("IW*.h5")),
                           "--event", str(res / "catalog" / "events" / f"{ev}.json"), "--out", str(out)],
                          capture_output=True, text=True, cwd=tiny_run)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    doc = json.loads(out.read_text())
    assert doc["event"]["id"] == ev and len(doc["answers"]) == 2
    for a in doc["answers"]:
        assert 0.0 <= a["p_detectable"] <= 1.0 and a["fallback"] in (0, 1) and a["n_patches"] > 0
        assert a["mw_lo"] <= a["mw"] <= a["mw_hi"] and a["epicentre_r95_km"] > 0 and a["catalog_distance_km"] >= 0
    assert out.with_suffix(".png").stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "quakesar.cli", "predict", "--models", str(tmp_path / "nope"), "--interferograms",
                          "x.h5", "--event", str(res / "catalog" / "events" / f"{ev}.json"), "--out", str(tmp_path / "b.json")],
                         capture_output=True, text=True, cwd=tiny_run)
    assert bad.returncode == 2 and "nope" in bad.stderr


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_catalog_update_retrains_every_model(tiny_run):
    """Issue 17.1: an added event changes the dataset, so every training run starts afresh on the new data
    (no resume of the old run, no reuse of its checkpoint). Runs last: it leaves the run with four events."""
    before = {p.relative_to(tiny_run): _digest(p) for p in (tiny_run / "results" / "models").rglob("checkpoint.pt")}
    assert before
    _write_catalog(tiny_run / "catalog.csv", _rows((*FIRST, ADDED)))
    run_snakemake(tiny_run)
    after = {p.relative_to(tiny_run): _digest(p) for p in (tiny_run / "results" / "models").rglob("checkpoint.pt")}
    assert set(after) == set(before)
    unchanged = sorted(str(p) for p in before if before[p] == after[p])
    assert not unchanged, f"checkpoints reused after a catalog update: {unchanged}"
    events = {e["id"] for e in csv.DictReader((tiny_run / "results" / "catalog" / "events.csv").open())}
    assert ADDED in events
    for log in (tiny_run / "logs" / "train").rglob("*.log"):
        assert "resuming" not in log.read_text(), log
