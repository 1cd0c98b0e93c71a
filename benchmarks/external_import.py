"""Benchmark: import one full-size LiCSAR frame (quakesar.external.stage.import_product).

Builds a LiCSAR frame in the real file layout (tests/external_builders.py) of full frame size:
default 2,200 rows x 2,500 columns at 0.001 deg (~250 km x 240 km, a LiCSAR frame at its
standard posting), float32 unwrapped and wrapped phase, uint8 coherence, E/N/U, metadata.txt.
Then, each in a child process that reports wall time and peak resident memory (VmHWM):

* the import: read + convert, the geocoded canonical file, the pseudo-radar canonical file at the
  training pixel of the default config (reduction 8, 4x1 looks: ~118 x 111 m), the quicklook;
* baseline measured in the same run: reading the six rasters with rasterio and nothing else
  (the I/O floor).

Usage: ``python benchmarks/external_import.py [--rows 2200 --cols 2500]``; writes
``benchmarks/results/external_import.json`` with the load average before and after (the
development machine is shared).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from quakesar.atomic import write_json  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, {tests!r})
t0 = time.perf_counter()
{body}
peak = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024.0
print(json.dumps({{"seconds": time.perf_counter() - t0, "peak_rss_mb": peak}}))
"""

READ = r"""
from pathlib import Path
from quakesar.external.raster import read_geotiff
for p in sorted(Path({root!r}).rglob("*.tif")):
    read_geotiff(str(p))
"""

IMPORT = r"""
from pathlib import Path
from quakesar.external.layouts import find_products
from quakesar.external.stage import import_product
(spec,) = find_products(Path({root!r}))
event = {{"id": "bench", "time": "2021-03-03T10:16:09Z", "latitude": 39.75, "longitude": 22.18}}
cfg = {{"external": {{}}, "simulate": {{"mode": "reduced", "reduction": 8}}, "interferogram": {{"multilook": {{"range": 4, "azimuth": 1}}}}}}
out = Path({out!r})
import_product(spec, event, cfg, out / "ext.h5", out / "ext.geo.h5", out / "ext.png")
"""


def _child(body: str) -> dict:
    code = CHILD.format(tests=str(ROOT / "tests"), body=body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2200)
    ap.add_argument("--cols", type=int, default=2500)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "external_import.json")
    args = ap.parse_args()
    from external_builders import build_licsar

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root, out = Path(tmp) / "frame", Path(tmp) / "out"
        out.mkdir()
        t = time.perf_counter()
        build_licsar(root, "131A_05114_131313", "20210224_20210308", (39.75, 22.18), -12.4, rows=args.rows,
                     cols=args.cols, sigma_m=15_000.0, peak_m=0.5)
        build_s = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20
        read = _child(READ.format(root=str(root)))
        imp = _child(IMPORT.format(root=str(root), out=str(out)))
        import h5py

        with h5py.File(out / "ext.h5") as f:
            pseudo = list(f["i"].shape)
            spacing = [float(f.attrs["range_pixel_spacing_m"]), float(f.attrs["azimuth_pixel_spacing_m"])]
        outputs_mb = {p.name: round(p.stat().st_size / 2**20, 1) for p in out.iterdir()}
    result = {
        "benchmark": "external_import", "product": "LiCSAR frame (built in the real layout)",
        "rows": args.rows, "cols": args.cols, "pixels": args.rows * args.cols, "input_mb": round(size_mb, 1),
        "build_s": round(build_s, 2), "read_only_baseline": read, "import": imp,
        "import_over_read": round(imp["seconds"] / read["seconds"], 2),
        "pseudo_radar_shape": pseudo, "pseudo_radar_spacing_m": spacing, "outputs_mb": outputs_mb,
        "megapixels_per_s": round(args.rows * args.cols / 1e6 / imp["seconds"], 2),
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "cpus": os.cpu_count(),
        "machine": platform.platform(), "python": platform.python_version(),
        "note": "shared 2-core development VM; timings move with other engineers' jobs (see loadavg)",
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
