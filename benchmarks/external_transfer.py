"""Benchmark (quality): a training scene geocoded and imported back, against the radar original.

tests/external_transfer_case.py: the synthetic source + native backend make a training
interferogram (us7000df40, IW2, ascending, reduction 32, 4x1 looks); it is geocoded onto a
0.004 deg lat/lon grid as a processor would (LOS truth, wrapped phase, coherence, incidence),
imported as a generic GeoTIFF product, and its pseudo-radar interferogram compared with the
original: grid pixel and heading, LOS agreement at the same ground points (fraction of the
peak), wrapped-phase phasor agreement where coherent, location of the deformation peak.

Usage: ``python benchmarks/external_transfer.py [--reduction 32]``; writes
``benchmarks/results/external_transfer.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from quakesar.atomic import write_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reduction", type=int, default=32)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "external_transfer.json")
    args = ap.parse_args()
    from external_transfer_case import build_case, metrics

    load_before = os.getloadavg()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        case = build_case(Path(tmp), args.reduction)
        result = {"benchmark": "external_transfer", "reduction": args.reduction, **metrics(case),
                  "seconds": round(time.perf_counter() - t, 1), "loadavg_before": load_before,
                  "loadavg_after": os.getloadavg(),
                  "note": "quality benchmark; seconds include simulation, processing, geocoding and import on a shared VM"}
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
