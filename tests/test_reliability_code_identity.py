"""Jobs run the code of the workflow being executed, or refuse loudly (issue 17, item 6).

Two checkouts share one interpreter: copies A and B of this checkout, with different quakesar
version strings, and each package's ``__init__`` appending "A" or "B" to a marks file whenever a
process imports it. The interpreter's own quakesar is A's (``PYTHONPATH`` points at it, as a venv's
editable install of another checkout would); Snakemake runs B's Snakefile. Planning always used B
(the Snakefile puts its ``src`` first), but jobs used to import A. Now:

* every process of the run, the planner, a ``script:`` job (``catalog``) and a ``shell:`` job
  (``simulate``), imports B, which the marks, both job logs and the scene's ``software_version`` prove;
* an interpreter that brings its own quakesar regardless of ``PYTHONPATH`` (as a conda environment
  installed from checkout A does under ``--sdm conda``, where Snakemake clears ``PYTHONPATH``; here
  ``$QUAKESAR_PYTHON`` is such an interpreter) is refused: the job fails naming both paths.

No conda or SLURM here: the SLURM path is the same mechanism (jobs parse ``common.smk`` again and
inherit the environment; tests/test_slurm.py runs it on a real cluster).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from quakesar.rulejob import CodeIdentityError, check_code_identity

ROOT = Path(__file__).resolve().parents[1]
COPY = ["Snakefile", "workflow", "src", "config", "envs", ".test", "pyproject.toml"]
EVENT = "us7000df40"  # in the tiny config's selection
MARK = """
import os as _os
if _os.environ.get("QUAKESAR_TEST_IMPORT_MARKS"):
    with open(_os.environ["QUAKESAR_TEST_IMPORT_MARKS"], "a") as _fh:
        _fh.write("{name} %d\\n" % _os.getpid())
"""


def _checkout(dest: Path, name: str) -> Path:
    dest.mkdir()
    for item in COPY:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dest / item)
    init = dest / "src" / "quakesar" / "__init__.py"
    text = init.read_text()
    assert '__version__ = "' in text
    text = re.sub(r'__version__ = "[^"]*"', f'__version__ = "9.9.9+checkout-{name}"', text, count=1)
    init.write_text(text + MARK.format(name=name))
    return dest


@pytest.fixture(scope="module")
def checkouts(tmp_path_factory):
    base = tmp_path_factory.mktemp("checkouts")
    return _checkout(base / "A", "a"), _checkout(base / "B", "b")


def _env(a: Path, marks: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUAKESAR_")}
    env.update(PYTHONPATH=str(a / "src"), QUAKESAR_TEST_IMPORT_MARKS=str(marks), PYTHONDONTWRITEBYTECODE="1",
               PYTHONHASHSEED="0", **extra)
    return env


def _snakemake(b: Path, work: Path, env: dict[str, str], *targets: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(b / "Snakefile"), "-d", str(work), "--cores", "1",
           "--configfile", str(b / ".test" / "config.yaml"), "--", *targets]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, timeout=600)


def test_jobs_run_the_executed_workflows_code(checkouts, tmp_path):
    a, b = checkouts
    work, marks = tmp_path / "work", tmp_path / "marks.txt"
    work.mkdir()
    proc = _snakemake(b, work, _env(a, marks), "results/catalog/events.csv", f"results/scenes/{EVENT}/IW1.h5")
    assert proc.returncode == 0, proc.stderr[-4000:]
    imports = [line.split() for line in marks.read_text().splitlines()]
    assert {name for name, _ in imports} == {"b"}, imports  # nobody imported checkout A
    assert len({pid for _, pid in imports}) >= 3  # the planner, the catalog job and the simulate job
    expected = f"quakesar 9.9.9+checkout-b from {(b / 'src' / 'quakesar').resolve()}"
    for log in (work / "logs" / "catalog" / "catalog.log", work / "logs" / "simulate" / f"{EVENT}.log"):
        assert expected in log.read_text(), log.read_text()
    with h5py.File(work / "results" / "scenes" / EVENT / "IW1.h5") as f:
        assert f.attrs["software_version"] == "9.9.9+checkout-b"


def test_an_interpreter_with_another_checkouts_code_is_refused(checkouts, tmp_path):
    a, b = checkouts
    work, marks = tmp_path / "work", tmp_path / "marks.txt"
    work.mkdir()
    foreign = f"env PYTHONPATH={a / 'src'} {sys.executable}"  # ignores the workflow's PYTHONPATH
    proc = _snakemake(b, work, _env(a, marks, QUAKESAR_PYTHON=foreign), f"results/scenes/{EVENT}/IW1.h5")
    assert proc.returncode != 0
    text = (work / "logs" / "simulate" / f"{EVENT}.log").read_text()
    assert "CodeIdentityError" in text and "refusing to run another checkout's code" in text, text
    assert str((a / "src" / "quakesar").resolve()) in text and str(b / "src" / "quakesar") in text
    assert not (work / "results" / "scenes" / EVENT / "IW1.h5").exists()


def test_check_code_identity_names_both_paths(tmp_path):
    import quakesar

    here = Path(quakesar.__file__).resolve().parent
    check_code_identity({})  # outside a workflow (CLI, tests): nothing to check
    check_code_identity({"QUAKESAR_WORKFLOW_SRC": str(here.parent)})
    with pytest.raises(CodeIdentityError) as err:
        check_code_identity({"QUAKESAR_WORKFLOW_SRC": str(tmp_path / "other" / "src")})
    assert str(here) in str(err.value) and str(tmp_path / "other" / "src" / "quakesar") in str(err.value)
