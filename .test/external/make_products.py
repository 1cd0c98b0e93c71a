"""Build the tiny external products of the .test/external scenario (tests/test_external_workflow.py).

    python .test/external/make_products.py [WORKDIR]      (default: .test/external)

Writes, under WORKDIR/data/: a LiCSAR frame and a zipped HyP3 INSAR_GAMMA product for us7000df40
(Thessaly, 2021-03-03; found by the directory convention data/external/us7000df40/), and a raw
float32 + .rsc GAMMA-style geocoded grid with the opposite phase sign for nn00725272 (Monte
Cristo Range, 2020-05-15; named in config.yaml's external.events). Each carries a known LOS
bump at the epicentre (tests/external_builders.py).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from external_builders import build_hyp3, build_licsar, build_raw_rsc  # noqa: E402

THESSALY = (39.7546, 22.1757)
MONTE_CRISTO = (38.1689, -117.8497)


def main(workdir: Path) -> None:
    ext = workdir / "data" / "external" / "us7000df40"
    build_licsar(ext, "131A_05114_131313", "20210224_20210308", THESSALY, -12.4, rows=130, cols=150)
    build_hyp3(ext, "gamma", THESSALY, dt.datetime(2021, 2, 24, 16, 27, 30), dt.datetime(2021, 3, 8, 16, 27, 31),
               -12.3, rows=120, cols=130, step_m=80.0, zipped=True)
    build_raw_rsc(workdir / "data" / "manual" / "nn00725272", "geo_20200511_20200517", MONTE_CRISTO, -166.2,
                  rows=120, cols=130, sign=-1.0)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
