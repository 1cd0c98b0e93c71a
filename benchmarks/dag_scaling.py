"""DAG construction time and peak memory of `snakemake --dry-run` for large catalogs.

Question (issue 8): how long does Snakemake take to plan the whole quakesar DAG for 10,000 and
20,000 events (target <= 60 s for 10,000 on the 2-core reference machine), how much memory does it
need, what dominates, and how does it scale?

Method
------
* For each size N, a temporary config (the embedded default ``config/config.yaml`` plus catalog
  overrides) selects N events: the bundled ComCat catalog with every filter opened and
  ``catalog.limit: N`` while it has enough events (~18k), beyond that a generated ComCat-format CSV
  in a temporary directory (the bundled rows repeated with new ids and times shifted by whole
  days plus a few hours, so that deduplication keeps every copy). Results go to an empty temporary
  directory, so every job of the DAG is planned.
* ``snakemake --dry-run --quiet rules --cores 2 --configfile <tmp>`` runs in a fresh process
  (``--quiet rules``: no per-job printout, but the job-count table is kept) through
  ``benchmarks/snakemake_phases.py``, which timestamps Snakemake's planning phases without changing
  them. **Planning time** (the issue's "DAG construction") is process start to the scheduler being
  ready: the Snakefile parsed (catalog read and filtered), the DAG built, the jobs to run known; a
  real run starts its first jobs right after. The rest of a dry run "executes" every job in dry-run
  mode (evaluates its resources, formats its description and shell command), which a real run
  spreads over its jobs; the whole dry run's wall time is reported too. Wall time from fork to
  exit, peak RSS of that process from ``os.wait4`` (ru_maxrss), job count from the dry run's table.
* One extra run at ``--profile-size`` under cProfile: the functions with the largest own and
  cumulative time, and the share of the run spent in Snakefile parsing (the catalog read at
  parse time), DAG building, and the rest.
* Scaling: least-squares fit of log(time) and log(RSS) against log(N) (exponent 1 = linear).

Writes ``benchmarks/results/dag_scaling.json`` and prints a summary. Usage::

    .venv/bin/python benchmarks/dag_scaling.py                      # 2,500 5,000 10,000 20,000
    .venv/bin/python benchmarks/dag_scaling.py --sizes 1000 2000 --profile-size 1000
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import platform
import pstats
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from quakesar.atomic import write_json, write_text  # noqa: E402
from quakesar.catalog.stage import load_selection  # noqa: E402
from quakesar.config import SCHEMA_PATH, prepare_config  # noqa: E402

BUNDLED = ROOT / "config" / "catalog" / "usgs-comcat-m5-world-2013-2023.csv"
OUT_JSON = ROOT / "benchmarks" / "results" / "dag_scaling.json"

# Every filter open: all earthquakes of the catalog, whatever magnitude type, depth or date.
OPEN_FILTERS: dict[str, Any] = {
    "min_magnitude": 0.0,
    "max_magnitude": None,
    "magnitude_types": None,
    "max_depth_km": None,
    "min_depth_km": None,
    "start": None,
    "end": None,
    "region": None,
    "event_ids": [],
}


def selectable(path: Path) -> int:
    """Number of events the open filters select from a catalog (after deduplication)."""
    cfg = prepare_config({"catalog": {"path": str(path), **OPEN_FILTERS, "limit": None}}, SCHEMA_PATH, source="dag_scaling")
    return len(load_selection(cfg["catalog"], ROOT).events)


def generate_catalog(n_copies: int, dest: Path) -> Path:
    """A ComCat-format CSV: the bundled rows, then `n_copies - 1` further copies of them with ids
    suffixed ``x<k>`` and times shifted by ``k * 3 days + k hours`` (far beyond the dedup window)."""
    text = BUNDLED.read_text()
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    for k in range(n_copies):
        shift = timedelta(days=3 * k, hours=k)
        for row in rows:
            if k:
                row = dict(row)
                t = datetime.strptime(row["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) + shift
                row["time"] = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
                row["id"] = f"{row['id']}x{k}"
            writer.writerow(row)
    write_text(dest, out.getvalue())
    return dest


def run_dry(config_file: Path, workdir: Path, profile_out: Path | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    """One `snakemake --dry-run --quiet rules` in a fresh process: wall time, peak RSS, job count,
    and the planning phases (benchmarks/snakemake_phases.py: DAG built, needrun known, scheduler
    ready = the moment a real run would start its first jobs)."""
    phases_json = workdir / f"{config_file.stem}.phases.json"
    cmd = [sys.executable]
    if profile_out is not None:
        cmd += ["-m", "cProfile", "-o", str(profile_out)]
    cmd += [
        str(ROOT / "benchmarks" / "snakemake_phases.py"), str(phases_json),
        "--snakefile", str(ROOT / "Snakefile"), "--directory", str(ROOT),
        "--dry-run", "--quiet", "rules", "--cores", "2", *(targets or []), "--configfile", str(config_file),
    ]
    log = workdir / f"{config_file.stem}{'.prof' if profile_out else ''}.log"
    with open(log, "w") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake dry run failed ({proc.returncode}); see {log}:\n{text[-3000:]}")
    jobs = per_rule = None
    m = re.search(r"^total\s+(\d+)", text, re.M)
    if m:
        jobs = int(m.group(1))
        table = text[text.find("Job stats:"): m.end()]
        per_rule = {k: int(v) for k, v in re.findall(r"^([A-Za-z_][\w]*)\s+(\d+)\s*$", table, re.M) if k != "total"}
    phases = json.loads(phases_json.read_text()) if phases_json.exists() else {}
    ready = phases.get("scheduler_ready", {})
    return {
        "planning_wall_s": ready.get("wall_s"),
        "planning_peak_rss_mb": ready.get("peak_rss_mb"),
        "phases": phases,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "jobs": jobs,
        "jobs_per_rule": per_rule,
    }


def profile_summary(prof: Path, top: int = 15) -> dict[str, Any]:
    """Largest own-time and cumulative-time functions, and time by phase."""
    stats = pstats.Stats(str(prof))
    total = stats.total_tt

    def label(func: tuple[str, int, str]) -> str:
        file, line, name = func
        for marker in ("site-packages/", "/src/", "lib/python3"):
            if marker in file:
                file = file.split(marker, 1)[1]
                break
        return f"{file}:{line}({name})"

    rows = [(func, *vals) for func, vals in stats.stats.items()]  # (func, cc, nc, tt, ct, callers)
    by_tt = sorted(rows, key=lambda r: r[3], reverse=True)[:top]
    by_ct = sorted(rows, key=lambda r: r[4], reverse=True)[: top * 2]

    def cum(pattern: str, name: str) -> float:
        vals = [r[4] for r in rows if pattern in r[0][0] and r[0][2] == name]
        return max(vals) if vals else 0.0

    phases = {
        "snakefile_parse_incl_catalog_read_s": cum("snakemake/workflow.py", "include"),
        "catalog_selection_s": cum("quakesar/catalog/stage.py", "load_selection"),
        "dag_init_s": cum("snakemake/dag.py", "init"),
        "dag_update_s": cum("snakemake/dag.py", "update"),
        "dryrun_print_s": cum("snakemake/workflow.py", "_print_dryrun") or cum("snakemake/dag.py", "stats"),
    }
    return {
        "total_s": round(total, 2),
        "phases": {k: round(v, 2) for k, v in phases.items()},
        "top_own_time": [
            {"function": label(r[0]), "own_s": round(r[3], 3), "cum_s": round(r[4], 3), "calls": r[2]} for r in by_tt
        ],
        "top_cumulative": [
            {"function": label(r[0]), "cum_s": round(r[4], 3), "calls": r[2]}
            for r in by_ct
            if "snakemake" in r[0][0] or "quakesar" in r[0][0]
        ][:top],
    }


def loglog_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares exponent b of y = a * x**b."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return round(sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx, 3) if sxx else None


def summarize(runs: list[dict[str, Any]], profile: dict[str, Any] | None, bundled_n: int, target_s: float) -> dict[str, Any]:
    """The JSON record of the measurement so far."""
    ns = [r["events"] for r in runs]
    ten_k = next((r for r in runs if r["events"] == 10000), None)
    return {
        "benchmark": "dag_scaling",
        "question": "snakemake --dry-run wall time and peak RSS versus number of catalog events",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "snakemake_version": subprocess.run([sys.executable, "-m", "snakemake", "--version"], capture_output=True, text=True).stdout.strip(),
        "git_commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "config": "config/config.yaml + catalog filters opened + catalog.limit N; empty results dir",
        "bundled_catalog_selectable_events": bundled_n,
        "runs": sorted(runs, key=lambda r: r["events"]),
        "scaling_exponent_wall": loglog_slope(ns, [r["wall_s"] for r in runs]),
        "scaling_exponent_cpu": loglog_slope(ns, [r["cpu_s"] for r in runs]),
        "scaling_exponent_rss": loglog_slope(ns, [r["peak_rss_mb"] for r in runs]),
        "scaling_exponent_planning": loglog_slope(ns, [r["planning_wall_s"] or 0 for r in runs]),
        "target_s_for_10000": target_s,
        "target_measured_on": "planning_wall_s: process start to the scheduler being ready (DAG built, "
                              "jobs to run known), i.e. the wait before a real run starts its first job",
        "meets_target_planning": (ten_k["planning_wall_s"] <= target_s) if ten_k and ten_k["planning_wall_s"] else None,
        "meets_target_full_dry_run_wall": (ten_k["wall_s"] <= target_s) if ten_k else None,
        "profile": profile,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    ap.add_argument("--profile-size", type=int, default=10000, help="size run once more under cProfile (0: none)")
    ap.add_argument("--target-s", type=float, default=60.0, help="target wall time for 10,000 events")
    ap.add_argument("--out", type=Path, default=OUT_JSON)
    ap.add_argument("--target", action="append", default=None,
                    help="plan only these targets (e.g. catalog_all: the catalog stage's DAG); default: rule all")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="quakesar-dag-") as tmp_name:
        tmp = Path(tmp_name)
        bundled_n = selectable(BUNDLED)
        big: Path | None = None
        big_n = 0
        need = max(args.sizes + [args.profile_size])
        if need > bundled_n:
            copies = math.ceil(need / bundled_n) + 1
            big = generate_catalog(copies, tmp / "generated-comcat.csv")
            big_n = selectable(big)
            print(f"generated catalog: {copies} copies of the bundled rows, {big_n} selectable events")

        def config_for(n: int) -> tuple[Path, str]:
            source = BUNDLED if n <= bundled_n else big
            if source is None or (source is big and n > big_n):
                raise SystemExit(f"cannot select {n} events")
            cfg = {"results": str(tmp / f"results-{n}"), "catalog": {"path": str(source), **OPEN_FILTERS, "limit": n}}
            path = tmp / f"config-{n}.yaml"
            write_text(path, yaml.safe_dump(cfg, sort_keys=False))
            return path, ("bundled" if source == BUNDLED else "generated")

        runs = []
        for n in dict.fromkeys(args.sizes):  # in the order given; the JSON is rewritten after each
            cfg, source = config_for(n)
            print(f"dry run, {n} events ({source} catalog) ...", flush=True)
            res = run_dry(cfg, tmp, targets=args.target)
            res.update(events=n, catalog=source, seconds_per_1000_jobs=round(1000 * res["wall_s"] / res["jobs"], 3) if res["jobs"] else None)
            print(f"  planning {res['planning_wall_s']} s ({res['planning_peak_rss_mb']} MB), whole dry run "
                  f"{res['wall_s']:.1f} s, {res['peak_rss_mb']:.0f} MB peak RSS, {res['jobs']} jobs", flush=True)
            runs.append(res)
            write_json(args.out, {**summarize(runs, None, bundled_n, args.target_s), "targets": args.target or ["all"]})

        profile = None
        if args.profile_size:
            cfg, _ = config_for(args.profile_size)
            prof = tmp / "dag.prof"
            print(f"cProfile run, {args.profile_size} events ...", flush=True)
            timed = run_dry(cfg, tmp, profile_out=prof, targets=args.target)
            profile = {"events": args.profile_size, "wall_s_under_profiler": timed["wall_s"], **profile_summary(prof)}

    result = {**summarize(runs, profile, bundled_n, args.target_s), "targets": args.target or ["all"]}
    write_json(args.out, result)

    print(json.dumps({k: result[k] for k in ("scaling_exponent_planning", "scaling_exponent_wall", "scaling_exponent_rss",
                                              "meets_target_planning", "meets_target_full_dry_run_wall")}))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
