"""The ``import_external`` stage: one external product -> two canonical interferograms.

For each product of an event (:mod:`quakesar.external.plan`):

* ``results/interferograms/{event}/ext_{product}.geo.h5``: the geocoded variant on the product's
  own grid (:mod:`quakesar.external.geocoded`), for anything that wants the product as it is
  (the physics inversion reads ``unwrapped``/``los_displacement`` and the geolocation from it);
* ``results/interferograms/{event}/ext_{product}.h5``: the pseudo-radar variant at the training
  data's pixel (:mod:`quakesar.external.pseudo_radar`), which ``event_interferograms`` hands to the
  unchanged ``patches`` rule;
* ``results/interferograms/{event}/ext_{product}.png``: a quicklook (``external.quicklook``).

:func:`import_event` and :func:`external_patches` do the same for all products of one event
outside Snakemake (the ``quakesar import-external`` command and the entry points a predict step
builds on).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from quakesar.external.geocoded import TIE_STEP, geocoded_interferogram
from quakesar.external.layouts import ProductSpec
from quakesar.external.plan import plan_external
from quakesar.external.product import GeocodedProduct
from quakesar.external.pseudo_radar import pseudo_radar_interferogram
from quakesar.external.readers import read_product
from quakesar.interferogram.canonical import write_interferogram

log = logging.getLogger(__name__)

PREFIX = "ext_"


class NotCoseismicError(ValueError):
    """The product's dates do not bracket the event."""


def output_paths(results: str | Path, event_id: str, product_id: str) -> dict[str, Path]:
    """The files :func:`import_product` writes for one product (the rule's outputs)."""
    d = Path(results) / "interferograms" / event_id
    return {"h5": d / f"{PREFIX}{product_id}.h5", "geo_h5": d / f"{PREFIX}{product_id}.geo.h5",
            "png": d / f"{PREFIX}{product_id}.png"}


def _parse(t: str) -> dt.datetime:
    return dt.datetime.fromisoformat(t.replace("Z", "+00:00"))


def check_coseismic(product: GeocodedProduct, event: dict[str, Any]) -> None:
    """The event time must lie between the two acquisitions (by date when the product only has dates)."""
    t = _parse(str(event["time"]))
    t1, t2 = _parse(product.reference_time), _parse(product.secondary_time)
    date_only = "date only" in str(product.metadata.get("time_precision", ""))
    inside = (t1.date() <= t.date() <= t2.date()) if date_only else (t1 <= t <= t2)
    if not inside:
        raise NotCoseismicError(
            f"{product.product_id}: the event {event['id']} ({event['time']}) is not between the acquisitions "
            f"{product.reference_time} and {product.secondary_time}; this product is not coseismic for it "
            "(set external.require_coseismic: false to import it anyway)")


def epicentre_in_product(product: GeocodedProduct, event: dict[str, Any]) -> bool:
    """True when the event's epicentre falls on a valid pixel of the product (nearest pixel)."""
    geo = product.georef
    row, col = geo.rowcol(*geo.from_lonlat(float(event["longitude"]), float(event["latitude"])))
    r, c = int(round(float(row))), int(round(float(col)))
    return 0 <= r < geo.shape[0] and 0 <= c < geo.shape[1] and bool(product.valid[r, c])


def import_product(spec: ProductSpec, event: dict[str, Any], config: dict[str, Any], out_h5: Path, out_geo_h5: Path,
                   quicklook_png: Path | None = None) -> dict[str, Any]:
    """Read, convert and write one product (module docstring); returns a summary.

    ``config`` needs the ``external`` section and, for the training pixel, ``simulate`` and
    ``interferogram.multilook`` (:func:`quakesar.external.pseudo_radar.training_pixel_spacing`).
    """
    ext = config.get("external") or {}
    tie_step = int((ext.get("grid") or {}).get("tie_step", TIE_STEP))
    product = read_product(spec)
    log.info("%s: %s product, %d x %d pixels, %.1f %% valid, heading %.2f deg, %s -> %s", spec.product_id, spec.layout,
             *product.shape, 100.0 * product.valid.mean(), product.heading_deg, product.reference_time,
             product.secondary_time)
    for note in product.conversions:
        log.info("%s: %s", spec.product_id, note)
    if ext.get("require_coseismic", True):
        check_coseismic(product, event)
    inside = epicentre_in_product(product, event)
    product.metadata["epicentre_in_product"] = inside
    if not inside:
        log.warning("%s: the epicentre of %s (%.4f, %.4f) is outside the product's valid area; its patches see "
                    "the event from afar (the training scenes always contain their epicentre)", spec.product_id,
                    event["id"], float(event["latitude"]), float(event["longitude"]))
    geo = geocoded_interferogram(product, event, tie_step)
    write_interferogram(out_geo_h5, geo)
    ifg, grid = pseudo_radar_interferogram(product, event, config, tie_step)
    write_interferogram(out_h5, ifg)
    log.info("%s: pseudo-radar grid %d x %d at %.1f m (range) x %.1f m (azimuth), heading %.2f deg, %.1f %% valid",
             spec.product_id, grid.rows, grid.cols, grid.range_spacing_m, grid.azimuth_spacing_m, grid.heading_deg,
             100.0 * float(np.mean(ifg.optional["valid"])))
    if quicklook_png is not None:
        from quakesar.quicklook import save_quicklook

        panels: dict[str, np.ndarray] = {"phase": (ifg.i + 1j * ifg.q).astype(np.complex64), "coherence": ifg.coherence}
        if "los_displacement" in ifg.optional:
            panels["los_displacement"] = ifg.optional["los_displacement"]
        with warnings.catch_warnings():  # blocks of the empty grid corners are all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            save_quicklook(quicklook_png, panels, title=f"{event['id']} {spec.product_id} (pseudo-radar)")
    return {"product_id": spec.product_id, "layout": spec.layout, "shape": list(product.shape),
            "epicentre_in_product": inside,
            "pseudo_radar_shape": [grid.rows, grid.cols], "h5": str(out_h5), "geo_h5": str(out_geo_h5)}


def planned_outputs(config: dict[str, Any], event_ids: list[str], results: str | Path | None = None,
                    base: str | Path = ".") -> dict[str, list[dict[str, Any]]]:
    """Event id -> its products' files (``product_id``, ``layout``, ``h5`` pseudo-radar, ``geo_h5``,
    ``png``), from the start-up plan, without importing anything (what a downstream step reads)."""
    results = Path(results or config.get("results", "results"))
    plan = plan_external(config.get("external"), list(event_ids), base)
    return {ev: [{"product_id": s.product_id, "layout": s.layout,
                  **{k: str(v) for k, v in output_paths(results, ev, s.product_id).items()}} for s in specs]
            for ev, specs in plan.items()}


def import_event(event: dict[str, Any], config: dict[str, Any], results: str | Path | None = None,
                 base: str | Path = ".", quicklook: bool | None = None) -> list[dict[str, Any]]:
    """Import every product of one event (the directory convention and ``external.events``).

    Returns one summary per product (with the paths of both canonical files); no products -> [].
    """
    results = Path(results or config.get("results", "results"))
    ext = dict(config.get("external") or {})
    ext["events"] = {k: v for k, v in (ext.get("events") or {}).items() if k == str(event["id"])}
    plan = plan_external(ext, [str(event["id"])], base)
    ql = bool((config.get("external") or {}).get("quicklook", True)) if quicklook is None else quicklook
    out = []
    for spec in plan.get(str(event["id"]), []):
        paths = output_paths(results, str(event["id"]), spec.product_id)
        out.append(import_product(spec, event, config, paths["h5"], paths["geo_h5"], paths["png"] if ql else None))
    return out


def external_patches(event: dict[str, Any], config: dict[str, Any], out_h5: str | Path, out_csv: str | Path,
                     results: str | Path | None = None, base: str | Path = ".") -> list[Path]:
    """Import an event's products and tile their pseudo-radar interferograms with the ``patches``
    config (:func:`quakesar.patches.tiling.tile_event`); returns the interferograms tiled."""
    from quakesar.patches.tiling import tile_event

    summaries = import_event(event, config, results, base)
    files = [Path(s["h5"]) for s in summaries]
    tile_event(event, files, config.get("patches") or {}, Path(out_h5), Path(out_csv))
    return files
