"""The tiny workflow on a real SLURM, through ``--profile profiles/slurm``, equals a local run.

Needs a running SLURM cluster whose nodes share this file system: CI starts a single-node one on
localhost (``bash .ci/slurm-up.sh``, Debian's slurm-wlm + munge; ``.ci/run`` does it), and so can
anyone with root (docs/scale-out.md, "Run the SLURM test by hand"). Skipped only when the SLURM
client ``sinfo`` is not installed; installed but not answering is a failure.

What it proves:

* every job of the DAG except the declared local rules was submitted with ``sbatch`` and ran
  inside a SLURM allocation: the outputs each SLURM job log reports (Snakemake's own log of the
  job, kept with ``--slurm-keep-successful-logs``) together with the local rules' outputs are
  exactly the outputs of the local run's jobs, and SLURM itself lists every submitted job id as
  COMPLETED (``squeue --states=all``, since the test cluster has no accounting database);
* the per-event group of the profile really packs several events into one sbatch job;
* the outputs are the same files with the same content: every file under the results directory
  of the local run exists in the SLURM run, HDF5 files have the same datasets, values and
  attributes, other files are byte-identical, except Snakemake's benchmark TSVs and the fields
  that record durations (JSON keys / CSV columns named ``seconds`` or ``*_per_s``, e.g. the
  training history's epoch time);
* the training rule's ``gpu: 1`` reached SLURM (``--gpus=1`` on the fake GPU of the test cluster).

Target: the DAG up to ``dataset`` plus one training run (``SLURM_TEST_TARGETS``); the full tiny
DAG (9 model trainings, one GPU on the test node) would make this test several minutes longer
without exercising anything new. The training run is compared too: on CPU with the same seed and
threads it is deterministic: checkpoint.pt is byte-identical, metrics, predictions and the loss
history are equal. Left out: ``last.pt`` (the resume state carries the epoch history with its
durations) and the TensorBoard event files (named by time, host and PID, with wall-clock stamps).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
# What the copies of the work dir need: the workflow, the package, configs, profiles, envs.
COPY = ["Snakefile", "workflow", "src", "config", "profiles", "envs", ".test", "pyproject.toml"]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# Files whose content is timing or run dependent by nature.
# benchmarks/: Snakemake's timing TSVs; last.pt: the resume state, which carries the epoch history
# with its durations; tensorboard/: event files named by time, host and PID, with wall-clock stamps.
VOLATILE = [re.compile(r"^benchmarks/"), re.compile(r"(^|/)last\.pt$"), re.compile(r"(^|/)tensorboard/")]
TIMEOUT_S = 1200
# Fields that record how long something took (wall-clock measurements, not results): left out of
# the comparison of JSON and CSV files. Everything else in them must be equal.
TIMING_FIELD = re.compile(r"(^|_)(seconds|per_s)($|_)")
# Rules the workflow declares local (they run in the main process by design).
LOCAL_RULES: set[str] = set()  # no rule of the DAG runs in the main process (catalog_all/all have no job work)


def _targets(results: str) -> list[str]:
    raw = os.environ.get("SLURM_TEST_TARGETS")
    if raw:
        return raw.split()
    return [
        f"{results}/dataset/index.csv",
        f"{results}/models/gated/smallcnn/seed0/metrics.json",
    ]


def _require_slurm() -> None:
    if shutil.which("sinfo") is None:
        pytest.skip("SLURM is not installed (no `sinfo` on PATH); start a local one with `bash .ci/slurm-up.sh` (root)")
    proc = subprocess.run(["sinfo", "--noheader", "--format=%P %a %t"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 or not re.search(r"\bup\b\s+(idle|mix|alloc)", proc.stdout):
        pytest.fail(
            "SLURM is installed but no partition is up with a usable node "
            f"(sinfo rc={proc.returncode}: {proc.stdout.strip()} {proc.stderr.strip()}); run `bash .ci/slurm-up.sh`"
        )


def _copy_workdir(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> str:
    t0 = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=TIMEOUT_S)
    text = log.read_text()
    assert proc.returncode == 0, f"{' '.join(cmd)} failed after {time.monotonic() - t0:.0f} s:\n{text[-6000:]}"
    return text


def _executed_outputs(log_text: str, only_local: bool = False) -> dict[str, set[str]]:
    """rule name -> output files of the jobs a Snakemake log announces ("rule X:" /
    "localrule X:" blocks followed by "output:"); with only_local, only "localrule" blocks (jobs
    the main process ran itself)."""
    out: dict[str, set[str]] = {}
    rule = None
    for line in log_text.splitlines():
        m = re.match(r"^(local)?(?:rule|checkpoint) (\w+):\s*$", line.strip())
        if m:
            rule = m.group(2) if (m.group(1) or not only_local) else None
            continue
        if rule is None:
            continue
        m = re.match(r"^\s+output: (.*)$", line)
        if m:
            out.setdefault(rule, set()).update(p.strip() for p in m.group(1).split(","))
            rule = None
    return out


def _h5_equal(a: Path, b: Path, rel: str) -> list[str]:
    import h5py

    problems: list[str] = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        def walk(ga, gb, prefix):
            if set(ga.keys()) != set(gb.keys()):
                problems.append(f"{rel}:{prefix}/ members {sorted(ga.keys())} != {sorted(gb.keys())}")
                return
            if set(ga.attrs.keys()) != set(gb.attrs.keys()):
                problems.append(f"{rel}:{prefix}/ attributes differ")
            for key in ga.attrs.keys():
                va, vb = ga.attrs[key], gb.attrs[key]
                if not np.array_equal(np.asarray(va), np.asarray(vb), equal_nan=np.asarray(va).dtype.kind == "f"):
                    problems.append(f"{rel}:{prefix}/@{key}: {va!r} != {vb!r}")
            for key in ga.keys():
                oa, ob = ga[key], gb[key]
                if isinstance(oa, h5py.Group):
                    walk(oa, ob, f"{prefix}/{key}")
                    continue
                xa, xb = oa[()], ob[()]
                if oa.dtype != ob.dtype or np.shape(xa) != np.shape(xb):
                    problems.append(f"{rel}:{prefix}/{key}: {oa.dtype}{np.shape(xa)} != {ob.dtype}{np.shape(xb)}")
                elif not np.array_equal(xa, xb, equal_nan=oa.dtype.kind in "fc"):
                    problems.append(f"{rel}:{prefix}/{key}: values differ")
                for attr in oa.attrs.keys():
                    if not np.array_equal(np.asarray(oa.attrs[attr]), np.asarray(ob.attrs.get(attr))):
                        problems.append(f"{rel}:{prefix}/{key}@{attr} differs")
        walk(fa, fb, "")
    return problems


def _without_timing(path: Path) -> object:
    """A JSON or CSV file's content with the timing fields removed (JSON keys / CSV columns)."""
    if path.suffix == ".json":
        def strip(obj):
            if isinstance(obj, dict):
                return {k: strip(v) for k, v in obj.items() if not TIMING_FIELD.search(k)}
            if isinstance(obj, list):
                return [strip(v) for v in obj]
            return obj
        return strip(json.loads(path.read_text()))
    rows = list(csv.reader(io.StringIO(path.read_text())))
    if not rows:
        return rows
    keep = [i for i, name in enumerate(rows[0]) if not TIMING_FIELD.search(name)]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


def _compare_trees(local: Path, slurm: Path) -> tuple[int, list[str]]:
    problems: list[str] = []
    compared = 0
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        rel = path.relative_to(local).as_posix()
        if any(rx.search(rel) for rx in VOLATILE):
            continue
        other = slurm / rel
        if not other.is_file():
            problems.append(f"{rel}: missing from the SLURM run")
            continue
        compared += 1
        if path.suffix == ".h5":
            problems += _h5_equal(path, other, rel)
        elif path.read_bytes() != other.read_bytes():
            if path.suffix in (".json", ".csv") and _without_timing(path) == _without_timing(other):
                continue  # only how long it took differs
            problems.append(f"{rel}: content differs")
    extra = sorted(
        p.relative_to(slurm).as_posix() for p in slurm.rglob("*")
        if p.is_file() and not (local / p.relative_to(slurm)).exists()
        and not any(rx.search(p.relative_to(slurm).as_posix()) for rx in VOLATILE)
    )
    problems += [f"{rel}: only in the SLURM run" for rel in extra]
    return compared, problems


def _squeue_states(run_id: str) -> dict[str, tuple[str, str]]:
    """job id -> (state, comment) of the jobs SLURM lists under the run's job name (the plugin names
    every job of a run by the run's UUID). The test cluster has no accounting, so `squeue
    --states=all` (finished jobs stay for MinJobAge = 600 s) is SLURM's record."""
    proc = subprocess.run(
        ["squeue", "--noheader", "--states=all", f"--name={run_id}", "--format=%i|%T|%k"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    seen = {}
    for line in proc.stdout.splitlines():
        jid, state, comment = (line.strip().split("|") + ["", ""])[:3]
        seen[jid] = (state, comment)
    return seen


def test_tiny_dag_on_slurm_equals_local_run(tmp_path):
    _require_slurm()
    env = dict(os.environ)
    env.update(
        # size group jobs and threads to the test node (sinfo reports its CPUs); one group job
        # carries all four events of the tiny config
        QUAKESAR_SLURM_PARTITION=os.environ.get("QUAKESAR_SLURM_PARTITION", "debug"),
        QUAKESAR_SLURM_EVENTS_PER_JOB="20",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key in ("QUAKESAR_SLURM_ACCOUNT", "QUAKESAR_SLURM_BACKEND"):
        env.pop(key, None)
    node_cpus = subprocess.run(["sinfo", "--noheader", "--format=%c"], capture_output=True, text=True).stdout.split()
    cores = str(min(int(node_cpus[0]), os.cpu_count() or 1)) if node_cpus else "1"
    common = ["--configfile", ".test/config.yaml", "--config", "results=results", "--cores", cores]

    # One snapshot of the sources for both runs, imported by the main process (the Snakefile puts
    # <workdir>/src first) and by every job script (PYTHONPATH, exported to SLURM jobs): the two
    # runs execute the same code even while the checkout changes.
    snapshot = _copy_workdir(tmp_path / "snapshot")
    env["PYTHONPATH"] = str(snapshot / "src")
    targets = _targets("results")

    # ---- local reference run
    local = shutil.copytree(snapshot, tmp_path / "local")
    local_log = _run(SNAKEMAKE + common + ["--", *targets], local, env, tmp_path / "local.log")
    assert _executed_outputs(local_log), f"the local run executed no job:\n{local_log[-3000:]}"

    # ---- the same on SLURM, through the profile
    remote = shutil.copytree(snapshot, tmp_path / "slurm")
    slurm_log = _run(
        SNAKEMAKE + ["--profile", "profiles/slurm", *common,
                     "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "5",
                     "--latency-wait", "5", "--", *targets],
        remote, env, tmp_path / "slurm.log",
    )

    check_slurm_run(local, remote, local_log, slurm_log)


def check_slurm_run(local: Path, remote: Path, local_log: str, slurm_log: str) -> None:
    """The assertions of the test on a finished pair of runs (separate so that a failed CI run's
    work directories can be re-checked by hand)."""
    expected = _executed_outputs(local_log)
    # every job went through sbatch
    submitted = dict(re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+)", slurm_log))
    assert submitted, f"no job was submitted to SLURM:\n{slurm_log[-3000:]}"
    job_logs = sorted((remote / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert {p.stem for p in job_logs} == set(submitted.values()), "one SLURM log per submitted job expected"
    in_slurm: dict[str, set[str]] = {}
    for p in job_logs:
        for rule, outs in _executed_outputs(p.read_text()).items():
            in_slurm.setdefault(rule, set()).update(outs)
    ran_locally = _executed_outputs(slurm_log, only_local=True)
    assert set(ran_locally) <= LOCAL_RULES, f"rules run in the main process instead of sbatch: {set(ran_locally) - LOCAL_RULES}"
    ran: dict[str, set[str]] = {r: set(o) for r, o in in_slurm.items()}
    for rule, outs in ran_locally.items():
        ran.setdefault(rule, set()).update(outs)
    assert ran == expected, f"jobs run on SLURM + local rules differ from the local run:\n{ran}\nvs\n{expected}"

    run_id = re.search(r"SLURM run ID: ([0-9a-f-]+)", slurm_log).group(1)
    states = _squeue_states(run_id)
    assert set(states) == set(submitted.values()), f"SLURM's jobs of run {run_id} {sorted(states)} != submitted {sorted(submitted.values())}"
    bad = {j: s for j, s in states.items() if s[0] != "COMPLETED"}
    assert not bad, f"SLURM jobs not COMPLETED: {bad}"
    # the per-event group packs several events into one sbatch job
    group_logs = [p for p in job_logs if any(part.startswith("group_event") for part in p.parts)]
    assert group_logs, f"no per-event group job was submitted: {sorted({p.parent.name for p in job_logs})}"
    assert any(len(_executed_outputs(p.read_text()).get("patches", ())) >= 2 for p in group_logs), \
        "group-components did not pack several events into one sbatch job"
    # the training job's GPU request reached SLURM (the test node has one fake GPU)
    train_ids = [p.stem for p in job_logs if any(part == "rule_train" for part in p.parts)]
    assert train_ids, "no train job ran on SLURM"
    show = subprocess.run(["scontrol", "show", "job", train_ids[0]], capture_output=True, text=True, timeout=30).stdout
    assert re.search(r"gres[/:]gpu[:=]1", show), f"train job {train_ids[0]} has no GPU allocation:\n{show}"

    # same outputs
    compared, problems = _compare_trees(local / "results", remote / "results")
    assert compared > 10, f"only {compared} files compared"
    assert not problems, "\n".join(problems[:50])
