"""A killed job's temporary files are removed when its successor starts, and only those (issue 17, item 4).

Real processes: writers that hold a :func:`quakesar.atomic.atomic_path` temporary file open are
started, one is killed with SIGKILL mid-write (as the OOM killer or a lost node would), and the
successor is the real ``patches`` entry point (``python -m quakesar.patches.rule``) writing the same
target. Its start removes the killed writer's ``.<target>.*.part`` (and one of the older name form),
and leaves alone the temporary files of live writers: another event's job writing in the same
directory, and a live process writing the same target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from quakesar.atomic import HOST, atomic_path, clean_stale_parts
from quakesar.patches.synthetic import make_interferogram

ROOT = Path(__file__).resolve().parents[1]
EVENT = dict(id="ev1", latitude=35.2, longitude=40.3, magnitude=6.3, magnitude_type="mww", mw=6.3, depth_km=12.0,
             time="2020-01-05T00:00:00Z")
WRITER = """
import sys, time
from quakesar.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_bytes(b"half of an HDF5 file")
    print(tmp, flush=True)
    time.sleep(120)
"""


def _writer(target: Path) -> tuple[subprocess.Popen, Path]:
    """A process in the middle of an atomic write of ``target``; returns it and its temporary file."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    part = Path(proc.stdout.readline().strip())
    assert part.is_file() and part.name.startswith(f".{target.name}.{HOST}.{proc.pid}.") and part.suffix == ".part"
    return proc, part


def test_successor_job_removes_the_killed_jobs_parts_only(tmp_path):
    out = tmp_path / "results" / "patches"
    out.mkdir(parents=True)
    target = out / "ev1.h5"
    killed, killed_part = _writer(target)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    killed.stdout.close()
    assert killed_part.exists()  # a killed process cannot clean up after itself
    legacy_part = out / ".ev1.h5.k3x9_a2b.part"  # the temporary name before writers were named
    legacy_part.write_bytes(b"old")
    other_job, other_part = _writer(out / "ev2.h5")  # another event's running job, same directory
    same_target, live_part = _writer(target)  # a live process writing the same target (not ours to remove)
    try:
        make_interferogram(tmp_path / "IW1.h5", 100, 100)
        log = tmp_path / "logs" / "patches" / "ev1.log"
        proc = subprocess.run(
            [sys.executable, "-m", "quakesar.patches.rule", "--record", json.dumps(EVENT),
             "--cfg", json.dumps({"window": 50, "size": 10}), "--log", str(log),
             "--interferograms", str(tmp_path / "IW1.h5"), "--h5", str(target), "--csv", str(out / "ev1.csv"),
             "--summary", str(out / "ev1.summary.json")],
            capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert target.is_file()
        assert not killed_part.exists() and not legacy_part.exists()
        assert other_part.exists() and live_part.exists()
        text = log.read_text()
        assert f"removed {killed_part}" in text and f"removed {legacy_part}" in text
        assert str(other_part) not in text and str(live_part) not in text
        assert sorted(p.name for p in out.iterdir() if p.suffix == ".part") == sorted([other_part.name, live_part.name])
    finally:
        for proc in (other_job, same_target):
            proc.kill()
            proc.wait()
            proc.stdout.close()


def test_clean_stale_parts_tells_targets_and_writers_apart(tmp_path):
    d = tmp_path
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)  # a process that has exited (and been reaped)
    files = {
        "dead writer": d / f".a.h5.{HOST}.{dead_pid}.abcd1234.part",
        "other host": d / ".a.h5.node-17.4242.abcd1234.part",  # an earlier attempt on another node
        "legacy": d / ".a.h5.abcd1234.part",
        "other target": d / f".a.h5.x.{HOST}.{dead_pid}.abcd1234.part",  # target a.h5.x, not a.h5
        "other event": d / f".b.h5.{HOST}.{dead_pid}.abcd1234.part",
        "not a part": d / ".a.h5.notes",
    }
    for f in files.values():
        f.write_bytes(b"x")
    removed = set(clean_stale_parts([d / "a.h5"]))
    assert removed == {files["dead writer"], files["other host"], files["legacy"]}
    assert all(files[k].exists() for k in ("other target", "other event", "not a part"))
    assert set(clean_stale_parts([d / "a.h5.x", d / "b.h5"])) == {files["other target"], files["other event"]}
    # this process's own write in progress is live; after it, nothing is left to clean
    with atomic_path(d / "a.h5") as tmp:
        tmp.write_bytes(b"y")
        assert clean_stale_parts([d / "a.h5"]) == [] and tmp.exists()
    assert (d / "a.h5").read_bytes() == b"y" and clean_stale_parts([d / "a.h5"]) == []
    assert clean_stale_parts([d / "missing-dir" / "a.h5"]) == []


def test_a_zombie_writer_counts_as_gone(tmp_path):
    """A killed writer not yet reaped by its parent (a zombie) holds nothing: its part is stale."""
    proc, part = _writer(tmp_path / "z.h5")
    os.kill(proc.pid, signal.SIGKILL)
    for _ in range(200):  # wait until it is a zombie, without reaping it
        with open(f"/proc/{proc.pid}/stat", "rb") as fh:
            if fh.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                break
        time.sleep(0.01)
    try:
        assert clean_stale_parts([tmp_path / "z.h5"]) == [part]
    finally:
        proc.wait()
        proc.stdout.close()
