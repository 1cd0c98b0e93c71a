"""Entry point of the Snakemake rule ``import_external`` (see quakesar.rulejob for why rules run modules).

    python -m quakesar.external.rule --record JSON --spec JSON --cfg JSON --log LOG \
        --h5 ext_P.h5 --geo-h5 ext_P.geo.h5 [--quicklook ext_P.png]
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from quakesar.external.layouts import ProductSpec
from quakesar.external.stage import import_product
from quakesar.rulejob import job_log, json_object, log_option, parser


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("Import one external interferogram product into the canonical files (pseudo-radar and geocoded).")
    p.add_argument("--record", required=True, help="the event record (JSON text)")
    p.add_argument("--spec", required=True, help="the product spec planned at start-up (JSON text)")
    p.add_argument("--cfg", required=True, help="external, simulate and interferogram.multilook sections (JSON text)")
    p.add_argument("--h5", type=Path, required=True, help="pseudo-radar canonical interferogram")
    p.add_argument("--geo-h5", type=Path, required=True, help="geocoded canonical interferogram")
    p.add_argument("--quicklook", type=Path, default=None)
    with job_log(log_option(argv)) as job:
        args = p.parse_args(argv)
        job.claim_outputs([args.h5, args.geo_h5] + ([args.quicklook] if args.quicklook else []))
        import_product(ProductSpec.from_json(json_object("--spec", args.spec)), json_object("--record", args.record),
                       json_object("--cfg", args.cfg), args.h5, args.geo_h5, args.quicklook)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
