"""The train, train_set, ablation and report rules run by Snakemake on a small simulated dataset.

The Snakefile used here includes only the learning rule files (the catalog/simulation stages are
replaced by a dataset and a training tier built in the test with the project's physics,
``tests/learning_data.py``) and defines ``RESULTS``/``res``/``TRAININGSET_INDEX`` as ``common.smk``
and ``trainingset.smk`` do. It checks the wiring a user relies on: every declared output, the report
sections, that adding a seed plans only that seed's jobs, and that ``train.device: cuda`` asks for a GPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from learning_data import build
from quakesar.trainingset.stage import run_index

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakefile(path: Path) -> Path:
    rules = REPO / "workflow" / "rules"
    path.write_text(f"""
import sys
sys.path.insert(0, {str(REPO / 'src')!r})
from quakesar.config import prepare_config
configfile: {str(path.parent / 'config.yaml')!r}
_p = prepare_config(config)
config.clear(); config.update(_p)
RESULTS = config["results"]
def res(p):
    return f"{{RESULTS}}/{{p}}"
TRAININGSET = True
TRAININGSET_INDEX = [res("trainingset/index.csv")]
REPORT_FRAGMENTS = []
include: {str(rules / 'common_learning.smk')!r}
include: {str(rules / 'train.smk')!r}
include: {str(rules / 'ablation.smk')!r}
include: {str(rules / 'report.smk')!r}
rule all:
    input: TRAIN_TARGETS, ABLATION_TARGETS, REPORT_TARGETS
""")
    return path


def _jobs(text: str) -> dict[str, str]:
    """rule -> job count from a dry run's job table."""
    return dict(line.split()[:2] for line in text.splitlines()
                if len(line.split()) == 2 and line.split()[1].isdigit() and not line.startswith("total"))


@pytest.mark.slow
def test_learning_rules_end_to_end(tmp_path):
    ds, ts = build(tmp_path / "results", n_train=40, n_eval=12)
    run_index([ts.parent / "shard0.csv"], [ts.parent / "shard0.json"], ts, ts.parent / "summary.json")
    idx = pd.read_csv(ds / "index.csv")
    (ds / "splits.json").write_text(json.dumps({s: sorted(map(str, g["event_id"].unique())) for s, g in idx.groupby("split")}))
    (ds / "summary.json").write_text(json.dumps({"events": int(idx["event_id"].nunique()), "patches": len(idx), "groups": 1,
                                                 "per_split": {s: {"events": int(g["event_id"].nunique())} for s, g in idx.groupby("split")}}))
    cfg = {"results": "results",
           "train": {"estimators": ["gated", "set"], "tasks": ["detection", "epicentre", "magnitude"], "models": ["smallcnn"],
                     "seeds": [0], "epochs": 2, "batch_size": 16, "num_workers": 0, "threads": 1, "bootstrap": 100,
                     "device": "cpu", "set": {"epochs": 2}},
           "ablation": {"enabled": True, "model": "smallcnn", "lambdas": [0.0, 1.0], "seeds": [0]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    sf = snakefile(tmp_path / "Snakefile")
    cmd = [str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "--cores", "2", "--quiet", "rules"]
    dry = subprocess.run([*cmd, "-n"], capture_output=True, text=True)
    assert dry.returncode == 0, (dry.stdout + dry.stderr)[-3000:]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-3000:]
    r = tmp_path / "results"
    for est in ("gated", "set"):
        m = json.loads((r / f"models/{est}/smallcnn/seed0/metrics.json").read_text())
        assert m["estimator"] == est
        for f in ("checkpoint.pt", "predictions.csv", "events.csv", "val_events.csv", "history.csv"):
            assert (r / f"models/{est}/smallcnn/seed0/{f}").is_file(), (est, f)
    # lambda = train.ranking_lambda (1) and seed 0 is the main run: only the lambda-0 run is extra
    assert (r / "models/gated/smallcnn/lambda0_seed0/events.csv").is_file()
    assert not (r / "models/gated/smallcnn/lambda1_seed0").exists()
    ab = json.loads((r / "ablation/ranking.json").read_text())
    assert ab["comparisons"][0]["lambda"] == 1.0
    md = (r / "report/summary.md").read_text()
    assert "Seed-pooled" in md and "Ranking ablation" in md and "## Data" in md and "Training-data tier" in md
    for f in ("logs/train/gated/smallcnn/seed0.log", "logs/train/set/smallcnn/seed0.log", "results/benchmarks/ablation/ablation.tsv"):
        assert (tmp_path / f).is_file(), f
    # nothing left to do: the rules' outputs are complete
    again = subprocess.run([*cmd, "-n"], capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr
    # one more seed and more loader workers: that seed's gated and set runs (+ report), the existing runs stay
    cfg["train"].update(seeds=[0, 5], num_workers=2)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    more = subprocess.run([str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "-n", "--cores", "1"], capture_output=True, text=True)
    jobs = _jobs(more.stdout + more.stderr)
    assert jobs.get("train") == "1" and jobs.get("train_set") == "1" and jobs.get("report") == "1", more.stdout[-2000:]
    assert "ablation" not in jobs
    # train.device cuda: the gated training jobs request a GPU (for SLURM), the others do not
    cfg["train"]["device"] = "cuda"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    gpu = subprocess.run([str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "-n", "--forceall", "--cores", "1"],
                         capture_output=True, text=True)
    blocks = (gpu.stdout + gpu.stderr).split("\n\n")
    train_blocks = [b for b in blocks if "rule train:" in b]
    assert train_blocks and all("gpu=1" in b for b in train_blocks), gpu.stdout[-2000:]
    assert not any("gpu=" in b for b in blocks if "rule report:" in b or "rule ablation:" in b)
