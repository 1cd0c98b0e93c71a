"""Command-line plumbing shared by the entry points of the per-event Snakemake rules.

The per-event rules (``simulate``, ``interferogram``, ``patches``) run ``python -m
quakesar.<stage>.rule ...`` as ``shell:`` commands instead of ``script:`` files. Snakemake opens,
reads and language-sniffs a rule's script once per job while it plans the DAG, and checks it for
the ``code`` rerun trigger: about 1 ms per job, i.e. a third of the planning time of a
10,000-event catalog (benchmarks/results/dag_scaling.json, docs/scale-out.md). Configuration
sections and the event record travel as JSON strings on the command line (Snakemake ``params``,
so a change of either still re-runs the job).

Every rule job, ``shell:`` entry point or ``script:`` file alike, runs inside :func:`job_log`
(:func:`script_job` for scripts), which makes the rule's ``log:`` file the job's record (issue 17):

* the job's logging (INFO and above) goes to the log file;
* the job's stderr, at the file-descriptor level (Python warnings, tqdm bars, messages of C
  libraries such as HDF5, child processes), goes to the log file *and* still to the terminal;
* when the job fails, the traceback (or the ``SystemExit`` message) is written to the log before the
  exception propagates, so Snakemake's "check log file(s) for error details" finds it there;
* before any work, the job's own stale temporary files from a killed earlier attempt are removed
  (:func:`quakesar.atomic.clean_stale_parts`) and the code identity is checked
  (:func:`check_code_identity`): the job must run the quakesar of the workflow being executed.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import quakesar
from quakesar.atomic import clean_stale_parts

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Set by workflow/rules/common.smk to <the executed workflow's checkout>/src, for every job.
WORKFLOW_SRC_ENV = "QUAKESAR_WORKFLOW_SRC"
_DRAIN_TIMEOUT_S = 5.0  # how long a finishing job waits for child processes still holding its stderr


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every rule entry point has (``--log``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--log", type=Path, required=True, help="log file of the job")
    return p


def json_object(name: str, text: str) -> dict[str, Any]:
    """Parse option ``name``'s JSON text into a dict; a clear error naming the option otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{name}: not valid JSON ({exc}): {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{name}: expected a JSON object, got {type(value).__name__}")
    return value


def paired(names: list[str], option: str, paths: list[Path] | None) -> dict[str, Path] | None:
    """``{name: path}`` from two parallel lists; None for an absent optional list."""
    if paths is None:
        return None
    if len(paths) != len(names):
        raise SystemExit(f"{option}: {len(paths)} paths for {len(names)} subswaths ({' '.join(names)})")
    return dict(zip(names, paths))


def log_option(argv: Sequence[str] | None) -> Path | None:
    """The ``--log`` path of a command line, read before the full parse (so that a bad command line,
    which argparse reports on stderr, still ends up in the job's log); None when absent."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--log", type=Path)
    known, _ = pre.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    return known.log


class CodeIdentityError(RuntimeError):
    """The job imports quakesar from another place than the workflow being executed."""


def pin_workflow_src(src: str | os.PathLike[str]) -> str:
    """Make every job of this workflow import quakesar from ``src`` (the executed checkout's ``src/``).

    Exports ``$QUAKESAR_WORKFLOW_SRC`` (checked by :func:`check_code_identity` in each job) and puts
    ``src`` first on ``PYTHONPATH``; environment variables, not rule params, so they never re-run
    finished jobs. Called once by ``workflow/rules/common.smk`` at parse time. Returns the resolved path.
    """
    resolved = str(Path(src).resolve())
    os.environ[WORKFLOW_SRC_ENV] = resolved
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != resolved]
    os.environ["PYTHONPATH"] = os.pathsep.join([resolved, *rest])
    return resolved


def check_code_identity(environ: dict[str, str] | os._Environ[str] | None = None) -> None:
    """Refuse to run a job with another checkout's code.

    ``$QUAKESAR_WORKFLOW_SRC`` (exported by ``workflow/rules/common.smk`` for every job) names the
    executed workflow's ``src`` directory; the imported ``quakesar`` package must be the one in it.
    The workflow also puts that directory first on the jobs' ``PYTHONPATH``, so a mismatch means
    something overrode it: an interpreter that ignores ``PYTHONPATH`` or a conda environment
    (Snakemake clears ``PYTHONPATH`` for those) whose editable install is another checkout's.
    Without the variable (the CLI, tests) nothing is checked.
    """
    env = os.environ if environ is None else environ
    expected = env.get(WORKFLOW_SRC_ENV, "").strip()
    if not expected:
        return
    imported = Path(quakesar.__file__).resolve().parent
    if imported != (Path(expected) / "quakesar").resolve():
        raise CodeIdentityError(
            f"this job imported quakesar {quakesar.__version__} from {imported}, but the workflow being executed is "
            f"the checkout with {Path(expected) / 'quakesar'} (${WORKFLOW_SRC_ENV}); refusing to run another "
            f"checkout's code (interpreter {sys.executable}). Run Snakemake with this checkout's Snakefile and an "
            "interpreter that honours PYTHONPATH, or with --sdm conda remove the environments under .snakemake/conda "
            "installed from the other checkout (or give each checkout its own --conda-prefix)")


class JobTerminated(SystemExit):
    """SIGTERM reached the job (Snakemake interrupted, a cluster time limit): unwinds the job like an
    exception, so that its log records where it was and its temporary files are removed; the exit
    status stays 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class _Tee:
    """A text stream writing to two streams (the job's stderr and its log)."""

    def __init__(self, first: TextIO, second: TextIO) -> None:
        self._first, self._second = first, second

    def write(self, text: str) -> int:
        self._second.write(text)
        return self._first.write(text)

    def flush(self) -> None:
        for stream in (self._second, self._first):
            with contextlib.suppress(ValueError, OSError):
                stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._first, name)


class JobLog:
    """The machinery of :func:`job_log`: start() before the job's work, stop(exc) after it."""

    def __init__(self, path: str | os.PathLike[str] | None, outputs: Iterable[str | os.PathLike[str]] = (),
                 echo_stderr: bool = True) -> None:
        self.path = Path(path) if path is not None else None
        self.echo_stderr = echo_stderr
        self.outputs = [Path(p) for p in outputs]
        self._handler: logging.Handler | None = None
        self._saved_root: tuple[list[logging.Handler], int] | None = None
        self._stream: TextIO | None = None
        self._saved_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._saved_stderr: TextIO | None = None
        self._saved_sigterm: Any = None
        self._running = False

    # -- start

    def start(self) -> None:
        """Attach the log; then remove the outputs' stale temporary files and log who runs."""
        self._running = True
        if threading.current_thread() is threading.main_thread():
            self._saved_sigterm = signal.signal(signal.SIGTERM, self._terminate)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, "a", encoding="utf-8", buffering=1)
            self._attach_logging()
            self._tee_stderr()
        logging.getLogger("quakesar.job").info("quakesar %s from %s (python %s)", quakesar.__version__,
                                               Path(quakesar.__file__).resolve().parent, sys.executable)
        self.claim_outputs(self.outputs)

    def claim_outputs(self, outputs: Iterable[str | os.PathLike[str]]) -> None:
        """Remove the stale temporary files of the job's ``outputs`` (a killed earlier attempt's)."""
        for removed in clean_stale_parts(outputs):
            logging.getLogger("quakesar.job").info("removed %s, a temporary file left by a killed earlier attempt",
                                                   removed)

    def _attach_logging(self) -> None:
        root = logging.getLogger()
        self._saved_root = (list(root.handlers), root.level)
        for h in list(root.handlers):
            root.removeHandler(h)
        assert self._stream is not None
        self._handler = logging.StreamHandler(self._stream)
        self._handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(self._handler)
        root.setLevel(logging.INFO)

    def _tee_stderr(self) -> None:
        """Point file descriptor 2 at a pipe whose reader copies everything to the old stderr and the log."""
        assert self._stream is not None
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            saved = None
        if saved is not None:
            read_end, write_end = os.pipe()
            os.dup2(write_end, 2)
            os.close(write_end)
            self._saved_fd = saved
            log_fd = self._stream.fileno()
            targets = (saved, log_fd) if self.echo_stderr else (log_fd,)
            self._thread = threading.Thread(target=_copy_pipe, args=(read_end, targets), daemon=True,
                                            name="quakesar-job-stderr")
            self._thread.start()
        try:
            covered = saved is not None and sys.stderr.fileno() == 2
        except (OSError, ValueError, AttributeError):
            covered = False
        if not covered:  # sys.stderr is not fd 2 (replaced by a test harness): tee it at the Python level
            self._saved_stderr = sys.stderr
            sys.stderr = _Tee(sys.stderr, self._stream) if self.echo_stderr else self._stream  # type: ignore[assignment]

    def _terminate(self, signum: int, frame: Any) -> None:
        """SIGTERM handler: log where the job was, then unwind (:class:`JobTerminated`)."""
        logging.getLogger("quakesar.job").error(
            "job terminated by %s (Snakemake interrupted, or the cluster's time limit) at:\n%s",
            signal.Signals(signum).name, "".join(traceback.format_stack(frame)).rstrip())
        raise JobTerminated(signum)

    # -- stop

    def stop(self, exc: BaseException | None = None) -> None:
        """Record ``exc`` (traceback, or a SystemExit's message) in the log and detach; idempotent."""
        if not self._running:
            return
        self._running = False
        if self._saved_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._saved_sigterm)
            self._saved_sigterm = None
        self._untee_stderr()
        if exc is not None and self._stream is not None:
            text = _failure_text(exc)
            if text:
                logging.getLogger("quakesar.job").error("%s", text)
        self._detach_logging()

    def _untee_stderr(self) -> None:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            sys.stderr.flush()
        if self._saved_stderr is not None:
            sys.stderr = self._saved_stderr  # type: ignore[assignment]
            self._saved_stderr = None
        if self._saved_fd is not None:
            os.dup2(self._saved_fd, 2)  # drops fd 2's hold on the pipe: the reader sees its end
            assert self._thread is not None
            self._thread.join(_DRAIN_TIMEOUT_S)
            if not self._thread.is_alive():  # else a child still writes: leave the fd to the reader
                os.close(self._saved_fd)
            self._saved_fd = None

    def _detach_logging(self) -> None:
        root = logging.getLogger()
        if self._handler is not None:
            root.removeHandler(self._handler)
            self._handler = None
        if self._saved_root is not None:
            handlers, level = self._saved_root
            for h in handlers:
                root.addHandler(h)
            root.setLevel(level)
            self._saved_root = None
        if self._stream is not None and (self._thread is None or not self._thread.is_alive()):
            self._stream.close()
        self._stream = None


def _copy_pipe(read_end: int, targets: tuple[int, ...]) -> None:
    """Copy a pipe to file descriptors (the terminal's, the log's) until every writer closed it."""
    try:
        while True:
            data = os.read(read_end, 1 << 16)
            if not data:
                break
            for fd in targets:
                with contextlib.suppress(OSError):
                    os.write(fd, data)
    finally:
        os.close(read_end)


def _failure_text(exc: BaseException) -> str:
    """What the log says about a job ending with ``exc`` ('' for a successful SystemExit)."""
    if isinstance(exc, JobTerminated):
        return ""  # logged by the signal handler, with the stack
    if isinstance(exc, SystemExit):
        if exc.code is None or exc.code == 0:
            return ""
        return f"job failed: {exc.code}" if isinstance(exc.code, str) else f"job failed: exit status {exc.code}"
    return "job failed:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()


@contextlib.contextmanager
def job_log(path: str | os.PathLike[str] | None, outputs: Iterable[str | os.PathLike[str]] = ()) -> Iterator[JobLog]:
    """Run a rule job's body with its ``log:`` file as its record (module docstring): logging and
    stderr into ``path``, the traceback written there on failure, ``outputs``' stale temporary
    files removed and the code identity checked first. ``path`` None: only the latter two. Yields
    the :class:`JobLog` (``claim_outputs`` for outputs known only after parsing the command line)."""
    job = JobLog(path, outputs)
    job.start()
    try:
        check_code_identity()
        yield job
    except BaseException as exc:
        job.stop(exc)
        raise
    else:
        job.stop(None)


def script_job(smk: Any, echo_stderr: bool = True) -> None:
    """:func:`job_log` for a ``script:`` rule, as one line before the script's call (no indented
    block): ``smk`` is the script's ``snakemake`` object (``log``, ``output``). The traceback of an
    uncaught exception is logged by a ``sys.excepthook`` that then prints it as usual; the log is
    detached at exit. ``echo_stderr=False``: stderr into the log only (download progress bars)."""
    job = JobLog(smk.log[0] if len(smk.log) else None, [str(p) for p in smk.output], echo_stderr=echo_stderr)
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        job.stop(exc)
        previous(exc_type, exc, tb)

    sys.excepthook = hook
    atexit.register(job.stop, None)
    job.start()
    check_code_identity()

