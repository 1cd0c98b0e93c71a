"""The train, ablation_train, ablation and report rules run by Snakemake on a small built dataset.

The Snakefile used here includes only the learning rule files (the catalog/simulation stages are
replaced by a dataset built in the test) and defines ``RESULTS``/``res`` as ``common.smk`` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from quakesar.dataset.index import build_dataset

from test_learning import make_index  # noqa: E402
from test_learning_dataset import write_patch_files  # noqa: E402

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
include: {str(rules / 'train.smk')!r}
include: {str(rules / 'ablation.smk')!r}
include: {str(rules / 'report.smk')!r}
rule all:
    input: TRAIN_TARGETS, ABLATION_TARGETS, REPORT_TARGETS
""")
    return path


@pytest.mark.slow
def test_learning_rules_end_to_end(tmp_path):
    index = make_index(n_events=10, per_event=6, seed=4).drop(columns=["split", "h5_path", "h5_index"])
    csvs = write_patch_files(index, tmp_path / "results" / "patches")
    build_dataset(csvs, {"fractions": {"train": 0.6, "val": 0.2, "test": 0.2}, "holdout": "event", "magnitude_bins": 1}, 7,
                  tmp_path / "results" / "dataset")
    cfg = {"results": "results", "train": {"tasks": ["magnitude"], "models": ["smallcnn"], "seeds": [0], "epochs": 2,
                                           "batch_size": 8, "num_workers": 0, "threads": 1, "bootstrap": 100, "device": "cpu"},
           "ablation": {"model": "smallcnn", "lambdas": [0.0, 1.0], "seeds": [1], "epochs": 1}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    sf = snakefile(tmp_path / "Snakefile")
    cmd = [str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "--cores", "2", "--quiet", "rules"]
    dry = subprocess.run([*cmd, "-n"], capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr[-3000:]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=175)
    assert run.returncode == 0, run.stderr[-3000:]
    r = tmp_path / "results"
    assert json.loads((r / "models/magnitude/smallcnn/seed0/metrics.json").read_text())["task"] == "magnitude"
    ab = json.loads((r / "ablation/ranking.json").read_text())
    assert ab["comparisons"][0]["seeds"] == [1] and (r / "models/magnitude/smallcnn/lambda1_seed1/predictions.csv").is_file()
    md = (r / "report/summary.md").read_text()
    assert "## magnitude" in md and "Ranking ablation" in md and "baseline: training mean" in md
    assert set(pd.read_csv(r / "report/metrics.csv")["task"]) == {"magnitude"}
    for f in ("logs/train/magnitude/smallcnn/seed0.log", "results/benchmarks/ablation/ablation.tsv"):
        assert (tmp_path / f).is_file(), f
    # nothing left to do: the rules' outputs are complete
    again = subprocess.run([*cmd, "-n"], capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr
    # one more seed and more loader workers: one new train job (+ report), the existing runs stay
    cfg["train"].update(seeds=[0, 5], num_workers=2)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    more = subprocess.run([str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "-n", "--cores", "1"], capture_output=True, text=True)
    jobs = dict(line.split()[:2] for line in (more.stdout + more.stderr).splitlines()
                if len(line.split()) == 2 and line.split()[1].isdigit() and not line.startswith("total"))
    assert jobs.get("train") == "1" and "ablation_train" not in jobs and jobs.get("report") == "1", more.stdout[-2000:]
    # train.device cuda: the training jobs request a GPU (for SLURM), the others do not
    cfg["train"]["device"] = "cuda"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    gpu = subprocess.run([str(SNAKEMAKE), "-s", str(sf), "--directory", str(tmp_path), "-n", "--forceall", "--cores", "1"],
                         capture_output=True, text=True)
    blocks = (gpu.stdout + gpu.stderr).split("\n\n")
    train_blocks = [b for b in blocks if "rule train:" in b or "rule ablation_train:" in b]
    assert train_blocks and all("gpu=1" in b for b in train_blocks), gpu.stdout[-2000:]
    assert not any("gpu=" in b for b in blocks if "rule report:" in b or "rule ablation:" in b)
