"""Training-data tier scaling: seconds per synthetic event of ``write_shard`` and the 10,000-event projection.

Question (issue 12): can the training-data tier (:mod:`quakesar.trainingset`, patches simulated straight
from the physics by :mod:`quakesar.synthetic.patchsim`) produce >= 10,000 synthetic events in <= 30 min on
the 2-core reference machine, at the main config (``config/config.yaml``: reduction 8, IW1-3, 250 -> 32 px
windows, ``trainingset`` section: supersample 2, float16)? How much memory does a shard process need?

Method
------
* Events: the tier's own selection (:func:`quakesar.trainingset.events.source_events` over the bundled
  catalog with the ``trainingset.catalog`` overrides, onshore only; no held-out events since there is no
  dataset split here), :func:`~quakesar.trainingset.events.realisations` with the tier's realisations and
  magnitude jitter, capped at 10,000 (the target tier), then a uniform random sample of ``--events``
  (seeded) so that the sample follows the tier's magnitude mix (the cap takes the largest first: a larger
  ``max_events`` adds smaller events, which are cheaper; a 1,600-event tier is all large ones).
* Each shard is a fresh Python process (as a Snakemake job is) running :func:`write_shard` on
  :func:`shard_records` of the sample, with ``OMP/MKL/OPENBLAS_NUM_THREADS=1``; it reports the time of
  its imports + land-mask preload (fixed cost per job), ``write_shard``'s seconds, its events/patches and
  its peak RSS (``ru_maxrss``) after the preload and at the end.
* Runs: 1 shard (all events, one process: the single-core rate and the baseline) and 2 shards in
  parallel (the same events split round robin, two processes on the two cores). Seconds per event on
  2 cores = wall time of the 2-shard run / events. Projection to 10,000 events on 2 cores: per-event
  simulation time x 10,000 / 2 shards-in-parallel (from the 2-shard run) + one fixed cost per job;
  ``ratio_to_target`` = projected seconds / 1800 (<= 1 meets the target). Since other jobs share the
  cores, the CPU seconds (user + system) of ``write_shard`` per event give a second projection for two
  dedicated cores (``projected_s_2_dedicated_cores`` = 10,000 x CPU s / 2 + fixed cost; also from the
  1-shard run's CPU time, where the two shards do not compete for caches and memory bandwidth). ``speedup_2_vs_1`` = per-event
  time of the 1-shard run / that of the 2-shard run (2.0 = perfect use of the second core).

The machine is shared (other engineers' jobs): the 1-minute load average before and after each run is
recorded next to it; with a load above 2 the 2-shard run competes for cores and its projection is
pessimistic. Writes ``benchmarks/results/trainingset_scaling.json``.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/trainingset_scaling.py            # 96 events, about 2-5 minutes
    PYTHONPATH=src .venv/bin/python benchmarks/trainingset_scaling.py --quick    # 8 events, under 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "trainingset_scaling.json"
TARGET_EVENTS = 10_000
TARGET_SECONDS = 1800.0


def worker(events_json: Path, shard: int, n_shards: int, out_dir: Path) -> None:
    """One shard process: imports + preload, write_shard, one JSON line on stdout."""
    t0 = time.perf_counter()
    from quakesar.config import load_config
    from quakesar.synthetic import landmask
    from quakesar.synthetic.patchsim import PatchLayout
    from quakesar.trainingset.shards import shard_records, write_shard
    from quakesar.trainingset.stage import simulation_config

    cfg = load_config(Path(json.loads(events_json.read_text())["config"]))
    landmask.preload()
    ts = cfg["trainingset"]
    records = shard_records(json.loads(events_json.read_text())["events"], shard, n_shards)
    layout = PatchLayout.from_config(cfg["interferogram"], cfg["patches"])
    setup_s = time.perf_counter() - t0
    rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    s = write_shard(records, simulation_config(cfg["simulate"], ts), layout, int(cfg["seed"]), out_dir / f"s{shard}.h5",
                    out_dir / f"s{shard}.csv", out_dir / f"s{shard}.json", supersample=int(ts["supersample"]), dtype=str(ts["dtype"]))
    sim_s = time.perf_counter() - t1
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    print(json.dumps({"shard": shard, "events": s["events"], "failed": len(s["failed"]), "patches": s["patches"],
                      "signal_patches": s["signal_patches"], "setup_s": round(setup_s, 3), "write_shard_s": round(sim_s, 3), "write_shard_cpu_s": round(cpu_s, 3),
                      "h5_bytes": (out_dir / f"s{shard}.h5").stat().st_size,
                      "peak_rss_after_setup_mb": round(rss_setup / 1024, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}), flush=True)


def run_shards(events_json: Path, n_shards: int, tmp: Path) -> dict:
    """``n_shards`` worker processes in parallel; wall time and their reports."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp / f"run{n_shards}"
    out.mkdir()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(events_json), str(k), str(n_shards), str(out)], env=env,
                              stdout=subprocess.PIPE, text=True) for k in range(n_shards)]
    reports = []
    for p in procs:
        so, _ = p.communicate()
        if p.returncode:
            raise RuntimeError(f"shard worker failed with exit status {p.returncode}")
        reports.append(json.loads(so.strip().splitlines()[-1]))
    wall = time.perf_counter() - t0
    events = sum(r["events"] for r in reports)
    sim_wall = max(r["write_shard_s"] for r in reports)
    return {"shards": n_shards, "events": events, "patches": sum(r["patches"] for r in reports),
            "signal_patches": sum(r["signal_patches"] for r in reports), "failed": sum(r["failed"] for r in reports),
            "wall_s": round(wall, 2), "write_shard_wall_s": round(sim_wall, 2),
            "s_per_event_wall": round(wall / events, 4), "s_per_event_simulation": round(sim_wall / events, 4),
            "s_per_event_per_process": round(float(np.mean([r["write_shard_s"] / max(r["events"], 1) for r in reports])), 4),
            "cpu_s_per_event": round(sum(r["write_shard_cpu_s"] for r in reports) / events, 4),
            "setup_s_max": round(max(r["setup_s"] for r in reports), 2),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in reports),
            "h5_bytes_per_event": round(sum(r["h5_bytes"] for r in reports) / max(events, 1)),
            "load_avg_1min_before": round(load0, 2), "load_avg_1min_after": round(os.getloadavg()[0], 2), "processes": reports}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="8 events (< 2 min)")
    p.add_argument("--events", type=int, default=96, help="sampled synthetic events (default 96)")
    p.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    p.add_argument("--seed", type=int, default=0, help="seed of the event sample")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--worker", nargs=4, metavar=("EVENTS_JSON", "SHARD", "N_SHARDS", "OUT_DIR"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker(Path(a.worker[0]), int(a.worker[1]), int(a.worker[2]), Path(a.worker[3]))
        return 0

    from quakesar.atomic import write_json
    from quakesar.config import load_config
    from quakesar.trainingset.events import Exclusion, realisations, source_events

    cfg = load_config(a.config)
    ts = cfg["trainingset"]
    cat = dict(cfg["catalog"])
    if not Path(cat["path"]).is_absolute():
        cat["path"] = str(ROOT / cat["path"])
    t0 = time.perf_counter()
    sources, counts = source_events(cat, ts.get("catalog") or {}, Exclusion.from_records([]), float(ts["exclude_km"]),
                                    bool(ts["onshore_only"]))
    tier = realisations(sources, int(ts["realisations"]), TARGET_EVENTS, float(ts["magnitude_jitter"]), int(cfg["seed"]))
    select_s = time.perf_counter() - t0
    n = 8 if a.quick else a.events
    pick = np.sort(np.random.default_rng(a.seed).choice(len(tier), size=min(n, len(tier)), replace=False))
    sample = [tier[i] for i in pick]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        ev_json = Path(tmp) / "events.json"
        ev_json.write_text(json.dumps({"config": str(a.config.resolve()), "events": sample}))
        for n_shards in (1, 2):
            r = run_shards(ev_json, n_shards, Path(tmp))
            print(json.dumps({k: v for k, v in r.items() if k != "processes"}), flush=True)
            runs.append(r)
    one, two = runs
    per_event_2 = two["write_shard_wall_s"] / two["events"]          # 2 processes on 2 cores
    setup = two["setup_s_max"]
    projected = TARGET_EVENTS * per_event_2 + setup
    projection = {"events": TARGET_EVENTS, "cores": 2, "shards_in_parallel": 2, "s_per_event_2_cores": round(per_event_2, 4),
                  "fixed_s_per_job": setup, "projected_s": round(projected, 1), "projected_min": round(projected / 60, 1),
                  "target_s": TARGET_SECONDS, "ratio_to_target": round(projected / TARGET_SECONDS, 3),
                  "meets_target": bool(projected <= TARGET_SECONDS),
                  "projected_s_single_process": round(TARGET_EVENTS * one["write_shard_wall_s"] / one["events"] + one["setup_s_max"], 1),
                  "speedup_2_vs_1": round((one["write_shard_wall_s"] / one["events"]) / per_event_2, 3),
                  "events_in_30_min_2_cores": int((TARGET_SECONDS - setup) / per_event_2),
                  # CPU time is hardly affected by other jobs: the projection for two dedicated cores
                  "cpu_s_per_event": two["cpu_s_per_event"],
                  "projected_s_2_dedicated_cores": round(TARGET_EVENTS * two["cpu_s_per_event"] / 2 + setup, 1),
                  "ratio_to_target_2_dedicated_cores": round((TARGET_EVENTS * two["cpu_s_per_event"] / 2 + setup) / TARGET_SECONDS, 3),
                  # the same from the 1-shard run's CPU time (no contention between the two shards themselves)
                  "ratio_to_target_2_dedicated_cores_1_shard_cpu": round((TARGET_EVENTS * one["cpu_s_per_event"] / 2 + one["setup_s_max"])
                                                                         / TARGET_SECONDS, 3)}
    mw = np.array([r["mw"] for r in tier])
    mws = np.array([r["mw"] for r in sample])
    out = {"benchmark": "trainingset_scaling", "machine": f"{platform.machine()}, {os.cpu_count()} cpus, python {sys.version.split()[0]}",
           "quick": a.quick, "config": str(a.config.relative_to(ROOT) if a.config.is_relative_to(ROOT) else a.config),
           "settings": {"reduction": cfg["simulate"]["reduction"], "subswaths": cfg["simulate"]["subswaths"],
                        "window": cfg["patches"]["window"], "size": cfg["patches"]["size"], "supersample": ts["supersample"],
                        "dtype": ts["dtype"], "realisations": ts["realisations"], "magnitude_jitter": ts["magnitude_jitter"]},
           "selection": {**counts, "tier_events_capped": len(tier), "select_s": round(select_s, 2),
                         "tier_mw_mean": round(float(mw.mean()), 3), "tier_mw_range": [float(mw.min()), float(mw.max())],
                         "sample_events": len(sample), "sample_mw_mean": round(float(mws.mean()), 3), "sample_seed": a.seed},
           "baseline": "1 shard process (all sampled events)", "runs": runs, "projection": projection}
    write_json(a.out, out)
    print(json.dumps(projection))
    print(f"-> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
