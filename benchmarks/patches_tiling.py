"""Benchmark: tile one full-resolution subswath interferogram (quakesar.patches.tiling.tile_event).

Builds a synthetic canonical interferogram of one Sentinel-1 IW subswath after 4x1 looks
(default 13,500 lines x 6,300 samples: 9 bursts x 1,500 lines, ~25k samples / 4) with dense
fringes, speckle-like phase noise and random coherence (so gzip sees realistic, poorly
compressible data), then tiles it with the default window 2000 -> 256 (a non-integer factor,
7.8125) in a child process that reports its wall time and peak resident memory.

Baseline measured in the same run: the I/O floor, i.e. reading and decompressing ``i``, ``q`` and
``coherence`` strip by strip with h5py and nothing else. Target: tiling <= 30 s with memory
bounded by a strip (window rows x all columns), not by the raster.

Usage: ``python benchmarks/patches_tiling.py [--rows 13500 --cols 6300 --window 2000 --size 256]``.
Writes ``benchmarks/results/patches_tiling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from quakesar.atomic import write_json
from quakesar.patches.synthetic import make_interferogram

CHILD = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
{body}
# VmHWM: this process's own peak resident set (ru_maxrss would include the parent's peak inherited at fork)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({{"seconds": time.perf_counter() - t0, "peak_rss_mb": int(hwm) / 1024.0}}))
"""

TILE = """
from quakesar.patches.tiling import tile_event
t0 = time.perf_counter()
tile_event(json.loads(sys.argv[1]), [Path(sys.argv[2])], json.loads(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
"""

READ = """
import h5py
window = int(sys.argv[3])
t0 = time.perf_counter()
with h5py.File(sys.argv[2], "r", rdcc_nbytes=256 << 20) as f:
    rows = f["i"].shape[0]
    for r0 in range(0, rows - window + 1, window):
        for name in ("i", "q", "coherence"):
            f[name][r0:r0 + window, :]
"""

IMPORTS = """
import h5py, numpy, pandas, scipy.sparse, pyproj
from quakesar.patches import tiling
"""


def _child(body: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(body=body), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=13_500)
    ap.add_argument("--cols", type=int, default=6_300)
    ap.add_argument("--window", type=int, default=2000)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "patches_tiling.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="quakesar-bench-") as tmp:
        ifg = Path(tmp) / "IW2.h5"
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        noise = rng.normal(0.0, 0.6, (args.rows, args.cols)).astype(np.float32)
        coh = rng.uniform(0.2, 0.95, (args.rows, args.cols)).astype(np.float32)
        make_interferogram(ifg, args.rows, args.cols, heading_deg=-12.0,
                           phase=lambda r, c: (2 * np.pi * (r / 900.0 + c / 1300.0)).astype(np.float32) + noise,
                           coherence=coh, subswath="IW2")
        del noise, coh
        gen_s = time.perf_counter() - t
        event = {"id": "bench", "latitude": 35.6, "longitude": 40.4, "magnitude": 6.5, "magnitude_type": "mww",
                 "mw": 6.5, "depth_km": 10.0, "time": "2020-01-05T00:00:00Z"}
        cfg = {"window": args.window, "size": args.size}
        imports = _child(IMPORTS)
        read = _child(READ, "", str(ifg), str(args.window))
        tile = _child(TILE, json.dumps(event), str(ifg), json.dumps(cfg), str(Path(tmp) / "p.h5"), str(Path(tmp) / "p.csv"))
        rerun = _child(TILE, json.dumps(event), str(ifg), json.dumps(cfg), str(Path(tmp) / "p.h5"), str(Path(tmp) / "p.csv"))
        with h5py.File(Path(tmp) / "p.h5") as f:
            n_patches = int(f["patches"].shape[0])
        file_mb = ifg.stat().st_size / 2**20
    raster_mb = 3 * args.rows * args.cols * 4 / 2**20
    strip_mb = 3 * args.window * args.cols * 4 / 2**20
    result = {
        "benchmark": "patches_tiling",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip() + f", python {platform.python_version()}",
        "raster": {"rows": args.rows, "cols": args.cols, "file_mb": round(file_mb, 1),
                   "i_q_coherence_float32_mb": round(raster_mb, 1)},
        "window": args.window, "size": args.size, "patches": n_patches,
        "tiling_s": round(tile["seconds"], 2), "target_s": 30.0, "meets_target": tile["seconds"] <= 30.0,
        "baseline_read_only_s": round(read["seconds"], 2),
        "ratio_tiling_to_read_only": round(tile["seconds"] / read["seconds"], 2),
        "rerun_unchanged_s": round(rerun["seconds"], 2),
        "peak_rss_mb": round(tile["peak_rss_mb"], 1), "import_only_rss_mb": round(imports["peak_rss_mb"], 1),
        "read_only_peak_rss_mb": round(read["peak_rss_mb"], 1),
        "one_strip_i_q_coherence_mb": round(strip_mb, 1),
        "peak_rss_above_imports_over_raster": round((tile["peak_rss_mb"] - imports["peak_rss_mb"]) / raster_mb, 3),
        "generation_s": round(gen_s, 1),
        "load_average_1_5_15_min_at_end": [round(v, 2) for v in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
