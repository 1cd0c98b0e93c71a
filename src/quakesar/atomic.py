"""Atomic file writing: every output is written to a temporary name beside it and renamed when complete.

An interrupted job therefore never leaves a truncated file under the final name, and a
re-run starts from a clean state. ``write_if_changed`` leaves a file (and its mtime) untouched
when the new content equals the old, which keeps Snakemake from re-running downstream jobs.

Temporary names are ``.<target name>.<host>.<pid>.<random>.part``. A job killed mid-write (SIGKILL,
out of memory, a node lost) cannot remove its temporary file; :func:`clean_stale_parts`, called by
every rule job as it starts for its own outputs (:mod:`quakesar.rulejob`), removes those left by
writers that are gone: a writer on this host whose process no longer runs (or is a zombie), any
writer of the same target on another host (Snakemake runs one job per output at a time and locks
the working directory, so that writer is a killed earlier attempt) and temporary files of the
older ``.<target name>.<random>.part`` form. The temporary files of other targets in the same
directory (other events' running jobs) and of live writers of the target are left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Iterator


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
PART_SUFFIX = ".part"
# This machine's name as it appears in temporary names (no dots: they separate the name's fields).
HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname().split(".")[0])[:63] or "host"
_LIVE: set[str] = set()  # temporary paths this process is writing now
_WRITER = re.compile(r"(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+")
_LEGACY = re.compile(r"[A-Za-z0-9_]{8}")  # tempfile's random part alone: parts written before writer names


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs on this machine (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, another user's
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _is_stale(path: str, middle: str) -> bool | None:
    """For the file ``path`` = ``.<target>.<middle>.part``: True (a gone writer's), False (a live
    writer's), None (not a temporary file of this target but of another whose name extends it,
    e.g. ``a.h5.x`` beside ``a.h5``)."""
    m = _WRITER.fullmatch(middle)
    if m is None:
        return True if _LEGACY.fullmatch(middle) else None
    if m["host"] != HOST:
        return True
    pid = int(m["pid"])
    if pid == os.getpid():
        return path not in _LIVE  # this process: live while its atomic_path block runs
    return _process_gone(pid)


def clean_stale_parts(targets: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Remove the temporary files of ``targets`` left by writers that are gone (module docstring);
    returns what was removed. One directory listing per directory, whatever the number of targets."""
    by_dir: dict[Path, set[str]] = {}
    for target in targets:
        t = Path(target)
        by_dir.setdefault(t.parent, set()).add(t.name)
    removed: list[Path] = []
    for directory, names in by_dir.items():
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.endswith(PART_SUFFIX)):
                continue
            for target_name in names:
                prefix = f".{target_name}."
                if not name.startswith(prefix) or len(name) <= len(prefix) + len(PART_SUFFIX):
                    continue
                verdict = _is_stale(os.path.abspath(entry.path), name[len(prefix):-len(PART_SUFFIX)])
                if verdict is None:
                    continue
                if verdict:
                    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
                break
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto ``path`` on success.

    On an exception the temporary file is removed and the target is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{HOST}.{os.getpid()}.", suffix=PART_SUFFIX, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp = os.path.abspath(tmp)
    _LIVE.add(tmp)
    try:
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual umask-based mode
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
    finally:
        _LIVE.discard(tmp)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``path``."""
    write_bytes(path, text.encode("utf-8"))


def dumps_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, trailing newline (stable bytes for equal content)."""
    return json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n"


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as canonical JSON."""
    write_text(path, dumps_json(obj))


def write_if_changed(path: str | os.PathLike[str], data: bytes | str) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly these bytes.

    Returns True when the file was (re)written, False when it was left untouched.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(path)
    if target.is_file() and target.stat().st_size == len(raw) and target.read_bytes() == raw:
        return False
    write_bytes(target, raw)
    return True


def _json_default(obj: Any) -> Any:
    """Serialise numpy scalars and arrays, and paths, in JSON output."""
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        pass
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
