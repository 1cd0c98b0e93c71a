"""Run a GPT graph with SNAP's command-line tool ``gpt``, with a timeout and a log beside the output.

Command: ``gpt <graph.xml> -c <cache> -q <parallelism> -e`` (SNAP ``gpt -h``: ``-c`` tile cache
size with K/M/G suffix, ``-q`` maximum parallelism, ``-e`` detailed error messages with stack
trace; snap-engine ``snap-gpt`` ``CommandLineUsage``). ``gpt``'s stdout and stderr go to one
log file; it is kept (renamed into place) whether ``gpt`` succeeds, fails or times out.

When SNAP's Python bridge ``esa_snappy`` is importable, :func:`validate_with_snappy` checks
every operator alias and parameter name of the graph against the installed SNAP's GPF
operator registry before anything runs (``GPF.getDefaultInstance().getOperatorSpiRegistry()``,
``OperatorSpi.getOperatorDescriptor().getParameterDescriptors()``, snap-engine ``snap-gpf``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quakesar.atomic import atomic_path
from quakesar.interferogram.snap.graph import parse_graph

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 40


class GptError(RuntimeError):
    """gpt could not be run or did not produce its output."""


class GptNotFoundError(GptError):
    """The configured ``gpt`` executable does not exist."""


class GptFailedError(GptError):
    """gpt exited with a non-zero status."""


class GptTimeoutError(GptError):
    """gpt ran longer than ``interferogram.snap.timeout_minutes``."""


class GraphValidationError(GptError):
    """The graph names an operator or parameter the installed SNAP does not know."""


@dataclass(frozen=True)
class GptResult:
    """What a successful run returns."""

    command: list[str]
    log_path: Path
    seconds: float
    returncode: int


def find_gpt(gpt: str) -> str:
    """Absolute path of the ``gpt`` executable named by ``interferogram.snap.gpt`` (a path or a name on PATH)."""
    candidate = Path(gpt).expanduser()
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(gpt)
    if found:
        return found
    raise GptNotFoundError(
        f"SNAP's gpt executable {gpt!r} was not found (config key interferogram.snap.gpt). Install SNAP "
        "(https://step.esa.int/main/download/snap-download/, with the Sentinel-1/Microwave toolbox) and set "
        "interferogram.snap.gpt to <snap>/bin/gpt, or use interferogram.backend: native. See docs/snap.md.")


def gpt_command(gpt: str, graph: Path, cache: str, parallelism: int) -> list[str]:
    """The argv of one ``gpt`` run."""
    if int(parallelism) < 1:
        raise ValueError(f"interferogram.snap.parallelism = {parallelism}: expected >= 1")
    return [gpt, str(graph), "-c", str(cache), "-q", str(int(parallelism)), "-e"]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run_gpt(graph: str | Path, log_path: str | Path, gpt: str = "gpt", cache: str = "8G", parallelism: int = 4,
            timeout_minutes: float = 720.0, validate: bool = True) -> GptResult:
    """Run ``gpt`` on ``graph``; the combined output goes to ``log_path`` (kept on failure too).

    While gpt runs the log is written under a temporary name beside ``log_path``
    (``.<name>.*.part``, :func:`quakesar.atomic.atomic_path`) and renamed when gpt ends.

    Raises :class:`GptNotFoundError`, :class:`GptFailedError` (with the log's tail),
    :class:`GptTimeoutError` (the process group is killed) or :class:`GraphValidationError`.
    """
    graph = Path(graph)
    log_path = Path(log_path)
    exe = find_gpt(gpt)
    if validate:
        validate_with_snappy(graph.read_text(encoding="utf-8"))
    cmd = gpt_command(exe, graph, cache, parallelism)
    timeout_s = float(timeout_minutes) * 60.0
    log.info("running %s (timeout %.0f s), log %s", " ".join(cmd), timeout_s, log_path)
    start = time.monotonic()
    outcome: tuple[str, int | None] = ("ok", 0)
    with atomic_path(log_path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f"# command: {' '.join(cmd)}\n")
            fh.flush()
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=graph.parent, start_new_session=True)
            try:
                proc.wait(timeout=timeout_s)
                outcome = ("ok" if proc.returncode == 0 else "failed", proc.returncode)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                outcome = ("timeout", None)
            except BaseException:
                _kill_group(proc)
                raise
            fh.write(f"# exit: {outcome[0]} (status {outcome[1]}) after {time.monotonic() - start:.1f} s\n")
    seconds = time.monotonic() - start
    if outcome[0] == "timeout":
        raise GptTimeoutError(f"gpt ran longer than interferogram.snap.timeout_minutes = {timeout_minutes} "
                              f"and was stopped; graph {graph}, log {log_path}. Last lines:\n{log_tail(log_path)}")
    if outcome[0] == "failed":
        raise GptFailedError(f"gpt exited with status {outcome[1]} on graph {graph}; log {log_path}. "
                             f"Last lines:\n{log_tail(log_path)}")
    return GptResult(cmd, log_path, seconds, 0)


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the gpt process we started and its children (its own session/process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


_HELP_PARAMETER = re.compile(r"^\s*-P([A-Za-z_][\w.]*)=", re.MULTILINE)


def _snappy_registry():  # type: ignore[no-untyped-def]
    """SNAP's GPF operator registry through ``esa_snappy``, or None when the bridge is not importable."""
    try:
        import esa_snappy  # type: ignore[import-not-found]
    except Exception:  # ImportError, or a broken bridge raising at import time
        return None
    return esa_snappy.GPF.getDefaultInstance().getOperatorSpiRegistry()


def _registry_parameters(registry, alias: str) -> set[str] | None:  # type: ignore[no-untyped-def]
    spi = registry.getOperatorSpi(alias)
    if spi is None:
        return None
    names: set[str] = set()
    for p in spi.getOperatorDescriptor().getParameterDescriptors():
        names.add(str(p.getName()))
        alias_name = p.getAlias()  # a graph may name a parameter by its alias (e.g. Multilook sourceBands)
        if alias_name:
            names.add(str(alias_name))
    return names


def operator_parameters(gpt: str, operator: str, timeout_s: float = 300.0) -> set[str]:
    """Parameter names ``operator`` has in the installed SNAP.

    From ``esa_snappy``'s operator registry when importable, otherwise from ``gpt <operator> -h``,
    whose "Parameter Options" list each parameter as ``-P<name>=<type>`` (SNAP ``CommandLineUsage``).
    """
    registry = _snappy_registry()
    if registry is not None:
        names = _registry_parameters(registry, operator)
        if names is None:
            raise GraphValidationError(f"operator {operator!r} is not installed in SNAP")
        return names
    exe = find_gpt(gpt)
    try:
        proc = subprocess.run([exe, operator, "-h"], capture_output=True, text=True, timeout=timeout_s,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise GptTimeoutError(f"'{exe} {operator} -h' did not answer within {timeout_s:.0f} s") from None
    text = proc.stdout + proc.stderr
    names = set(_HELP_PARAMETER.findall(text))
    if proc.returncode != 0 or not names:
        tail = "\n".join(text.splitlines()[-LOG_TAIL_LINES:])
        raise GptFailedError(f"'{exe} {operator} -h' exited with status {proc.returncode} and listed no "
                             f"parameters (is {operator} installed?). Output:\n{tail}")
    return names


def validate_graph(xml_text: str, describe: Callable[[str], set[str] | None]) -> None:
    """Check every node's operator and parameter names with ``describe(alias) -> parameter names | None``.

    ``describe`` returns None for an operator the SNAP installation does not have.
    """
    problems: list[str] = []
    for node in parse_graph(xml_text):
        params = describe(node.operator)
        if params is None:
            problems.append(f"node {node.id!r}: operator {node.operator!r} is not installed")
            continue
        unknown = sorted(set(node.parameters) - set(params))
        if unknown:
            problems.append(f"node {node.id!r}: {node.operator} has no parameter(s) {unknown}")
    if problems:
        raise GraphValidationError("graph rejected by the installed SNAP: " + "; ".join(problems))


def validate_with_snappy(xml_text: str) -> bool:
    """Validate against the installed SNAP via ``esa_snappy``; returns False (and logs) when it is not importable."""
    registry = _snappy_registry()
    if registry is None:
        log.info("esa_snappy not importable: skipping the check of operator/parameter names against SNAP")
        return False
    validate_graph(xml_text, lambda alias: _registry_parameters(registry, alias))
    log.info("graph operators and parameters validated against the installed SNAP (esa_snappy)")
    return True
