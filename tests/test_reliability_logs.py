"""A job's ``log:`` file holds its logging, its stderr and, when it fails, the traceback (issue 17, item 2).

Failed jobs used to leave 0-byte logs: the traceback went to the terminal only while Snakemake said
"check log file(s) for error details". Tested for real:

* :func:`quakesar.rulejob.job_log` in a separate Python process: logging, Python-level stderr
  (``print(file=sys.stderr)``, warnings), C-level writes to file descriptor 2 and a child process's
  stderr all reach the log and still the process's own stderr; a failure's traceback is in the log;
* a per-event entry point (``python -m quakesar.patches.rule``) with a bad command line;
* Snakemake itself running the real workflow (``Snakefile`` of this checkout, tiny config): a
  ``shell:`` rule (``patches``) and a ``script:`` rule (``dataset``) fail on corrupt inputs, and each
  log names the cause with the traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from quakesar.config import load_config
from quakesar.catalog.stage import load_selection
from quakesar.patches.synthetic import make_interferogram

ROOT = Path(__file__).resolve().parents[1]

JOB = textwrap.dedent("""
    import logging, os, subprocess, sys, warnings
    from quakesar.rulejob import job_log

    with job_log(sys.argv[1]):
        logging.getLogger("quakesar.demo").info("normal logging line")
        print("python-level stderr line", file=sys.stderr)
        warnings.warn("a warning line")
        os.write(2, b"c-level stderr line\\n")
        subprocess.run(["sh", "-c", "echo child-process stderr line >&2"], check=True)
        if sys.argv[2] == "fail":
            raise ValueError("the job's own error")
""")


def _python(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("outcome", ["ok", "fail"])
def test_job_log_gets_logging_every_kind_of_stderr_and_the_traceback(tmp_path, outcome):
    script = tmp_path / "job.py"
    script.write_text(JOB)
    log = tmp_path / "logs" / "job.log"
    proc = _python(str(script), str(log), outcome)
    text = log.read_text()
    for line in ("normal logging line", "python-level stderr line", "a warning line", "c-level stderr line",
                 "child-process stderr line"):
        assert line in text, f"{line!r} missing from the log:\n{text}"
        if line != "normal logging line":  # stderr still reaches the terminal (Snakemake's output)
            assert line in proc.stderr, f"{line!r} missing from stderr:\n{proc.stderr}"
    assert "quakesar.job quakesar " in text and " from " in text  # which code ran
    if outcome == "ok":
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in text and "job failed" not in text
    else:
        assert proc.returncode == 1
        assert "ERROR quakesar.job job failed:\nTraceback (most recent call last):" in text
        assert "ValueError: the job's own error" in text
        assert "ValueError: the job's own error" in proc.stderr  # and on the terminal, once
        assert text.count("ValueError: the job's own error") == 1


def test_a_bad_command_line_of_an_entry_point_is_in_its_log(tmp_path):
    log = tmp_path / "p.log"
    proc = _python("-m", "quakesar.patches.rule", "--log", str(log), "--record", "{}", cwd=ROOT)
    assert proc.returncode == 2
    text = log.read_text()
    assert "error: the following arguments are required: --cfg" in text and "job failed: exit status 2" in text
    assert "the following arguments are required" in proc.stderr


# ----------------------------------------------------------------------------- through Snakemake


def _snakemake(work: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    cmd += ["-s", str(ROOT / "Snakefile"), "-d", str(work), "--cores", "1", "--configfile",
            str(ROOT / ".test" / "config.yaml"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=work, timeout=600,
                          env={**os.environ, "PYTHONHASHSEED": "0"})


def _tiny_events() -> list[str]:
    cfg = load_config(ROOT / ".test" / "config.yaml")
    return [ev.id for ev in load_selection(cfg["catalog"], base_dir=ROOT).events]


def test_failing_shell_rule_leaves_its_traceback_in_its_log(tmp_path):
    """Rule `patches` (a `shell:` rule running `python -m quakesar.patches.rule`) on truncated
    interferograms: Snakemake reports the failure and the job's log names the bad file."""
    work = tmp_path / "work"
    event = _tiny_events()[0]
    ifg = work / "results" / "interferograms" / event
    ifg.mkdir(parents=True)
    for iw in ("IW1", "IW2", "IW3"):
        make_interferogram(ifg / f"{iw}.h5", 80, 80, subswath=iw)
        raw = (ifg / f"{iw}.h5").read_bytes()
        (ifg / f"{iw}.h5").write_bytes(raw[: len(raw) // 3])
    proc = _snakemake(work, "--allowed-rules", "patches", "--", f"results/patches/{event}.csv")
    assert proc.returncode != 0
    log = work / "logs" / "patches" / f"{event}.log"
    text = log.read_text()
    assert "job failed:\nTraceback (most recent call last):" in text, text
    assert f"{ifg / 'IW1.h5'}: cannot open HDF5 file" in text.replace(str(work) + "/", "") or \
        f"interferograms/{event}/IW1.h5: cannot open HDF5 file" in text, text
    assert "truncated" in text
    assert "HDF5FileError" in proc.stderr  # the terminal still shows it too


def test_failing_script_rule_leaves_its_traceback_in_its_log(tmp_path):
    """Rule `dataset` (a `script:` rule) on garbage patch files: the traceback is in its log."""
    work = tmp_path / "work"
    patches = work / "results" / "patches"
    patches.mkdir(parents=True)
    for event in _tiny_events():
        (patches / f"{event}.csv").write_text('not,a\n"patch csv\n')
        (patches / f"{event}.h5").write_bytes(b"\0not hdf5" * 64)
    proc = _snakemake(work, "--allowed-rules", "dataset", "--", "results/dataset/index.csv")
    assert proc.returncode != 0
    text = (work / "logs" / "dataset" / "dataset.log").read_text()
    assert "quakesar.job quakesar " in text  # the job started and said which code it runs
    assert "Traceback (most recent call last):" in text, text
    last = [ln for ln in text.splitlines() if ln.strip()][-1]
    assert "Error" in last or "error" in last, text  # the exception line ends the log


TERMINATED = textwrap.dedent("""
    import sys, time
    from quakesar.atomic import atomic_path
    from quakesar.rulejob import job_log

    with job_log(sys.argv[1]), atomic_path(sys.argv[2]) as tmp:
        tmp.write_bytes(b"half written")
        print(tmp, flush=True)
        time.sleep(60)
""")


def test_a_terminated_job_logs_where_it_was_and_leaves_no_temporary_file(tmp_path):
    """SIGTERM (Snakemake interrupted, a SLURM time limit) unwinds the job: the log says so, with the
    stack, the temporary file is removed, and the exit status is still 128 + 15."""
    import signal

    script = tmp_path / "job.py"
    script.write_text(TERMINATED)
    log, target = tmp_path / "job.log", tmp_path / "out.h5"
    proc = subprocess.Popen([sys.executable, str(script), str(log), str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    part = Path(proc.stdout.readline().strip())
    assert part.is_file()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    proc.stdout.close()
    assert proc.returncode == 128 + signal.SIGTERM, err
    text = log.read_text()
    assert "ERROR quakesar.job job terminated by SIGTERM" in text and "time.sleep(60)" in text, text
    assert not part.exists() and not target.exists()
