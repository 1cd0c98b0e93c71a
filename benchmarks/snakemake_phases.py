"""Run the Snakemake CLI with timestamps at the end of its planning phases (for dag_scaling.py).

Usage: ``python benchmarks/snakemake_phases.py OUT.json <snakemake arguments...>``

It wraps, without changing what they do, three Snakemake internals and records the wall time
since this process started and the peak RSS so far when each returns:

* ``Workflow._build_dag``: the DAG of every job is built (files matched to rules, wildcards
  applied, input functions and params evaluated, dependencies resolved);
* ``DAG.postprocess`` (its first call): which jobs need to run is known;
* ``JobScheduler.__init__``: the scheduler exists. In a real run the first jobs are submitted right
  after this, so this is the planning time a user waits before anything runs.

What a dry run does after that (every job "executed" in dry-run mode: its resources evaluated and
its description formatted, then the job-count table) is work a real run spreads over its jobs; the
total is the process's wall time, which dag_scaling.py measures from outside. The timestamps are
written to OUT.json when the process exits.
"""

from __future__ import annotations

import atexit
import functools
import json
import resource
import sys
import time
from typing import Any, Callable

T0 = time.perf_counter()
PHASES: dict[str, dict[str, float]] = {}


def _mark(name: str) -> None:
    if name not in PHASES:  # first occurrence only (postprocess runs again after checkpoints)
        PHASES[name] = {
            "wall_s": round(time.perf_counter() - T0, 3),
            "cpu_s": round(time.process_time(), 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def _after(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func`, marking phase `name` when it returns (sync or async)."""
    import inspect

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            out = await func(*args, **kwargs)
            _mark(name)
            return out
        return awrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = func(*args, **kwargs)
        _mark(name)
        return out
    return wrapper


def main() -> None:
    out_path, args = sys.argv[1], sys.argv[2:]
    from snakemake.cli import main as snakemake_main  # first: Snakemake's own import order

    import snakemake.dag
    import snakemake.scheduling.job_scheduler
    import snakemake.workflow

    _mark("imports_done")
    snakemake.workflow.Workflow._build_dag = _after("dag_built", snakemake.workflow.Workflow._build_dag)
    snakemake.dag.DAG.postprocess = _after("needrun_known", snakemake.dag.DAG.postprocess)
    snakemake.scheduling.job_scheduler.JobScheduler.__init__ = _after(
        "scheduler_ready", snakemake.scheduling.job_scheduler.JobScheduler.__init__)

    def dump() -> None:
        with open(out_path, "w") as fh:
            json.dump(PHASES, fh, indent=1)

    atexit.register(dump)
    sys.argv = ["snakemake", *args]
    snakemake_main()


if __name__ == "__main__":
    main()
