"""The canonical interferogram, geocoded variant: an external product on its own map grid.

Same file layout as every backend's (:mod:`quakesar.interferogram.canonical`); what differs for
a geocoded product (``variant = "geocoded"``) is documented in docs/architecture.md
("Canonical interferogram", geocoded and pseudo-radar variants) and here:

* rasters on the product's grid: row 0 is the first row of the product's file (north for
  north-up grids), column 0 its first column; ``i``/``q`` unit modulus (``cos``/``sin`` of the
  wrapped phase, the model input is amplitude independent), ``coherence`` 0..1, ``unwrapped`` (rad)
  and ``los_displacement`` (m, towards the satellite) when the product has them (NaN outside the
  valid area), ``valid`` mask;
* ``latitude``/``longitude``: tie-point grids of the pixel centres computed from the geotransform
  (every ``tie_step`` pixels plus the last row/column; exact for lat/lon grids, where latitude and
  longitude are linear in row and column, and within 3 cm for an 80 m UTM grid at the default
  step of 16 pixels, tests/test_external_grid.py), ``incidence`` sampled from the product's own look
  vectors or angles at the same nodes (gaps filled from the nearest valid node);
* attributes: ``subswath`` the product's subswath when it has one (``IW2`` for a HyP3 burst
  product) else ``IW`` (a product spanning the swath); ``track`` the relative orbit, -1 when the
  product does not say; ``flight_direction`` and ``heading_deg`` from the product (heading: the
  circular mean of its per-pixel look-vector headings); ``range_pixel_spacing_m`` /
  ``azimuth_pixel_spacing_m`` the ground size of a column / row step of the map grid (east-west /
  north-south for north-up grids; they are not radar spacings, ``pixel_spacing_kind`` says so);
  ``looks_range``/``looks_azimuth`` the product's own multilooking (HyP3 20x4, 10x2, 5x1) or 0
  when unknown (LiCSAR does not record them); ``backend`` = ``external``, ``backend_parameters`` =
  layout, files, metadata and every unit/sign conversion applied; ``crs``, ``geotransform``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from scipy import ndimage

from quakesar.external.metadata import degrees_to_metres
from quakesar.external.product import GeocodedProduct
from quakesar.external.raster import Georef
from quakesar.interferogram.canonical import Interferogram, base_attrs
from quakesar.tiepoints import TiePointGrid

TIE_STEP = 16


def tie_nodes(n: int, step: int) -> np.ndarray:
    """Node positions 0, step, 2 step, ... and the last pixel ``n - 1`` (at least two nodes)."""
    nodes = np.arange(0, max(n - 1, 1), max(1, int(step)), dtype=np.float64)
    return np.unique(np.append(nodes, max(n - 1, 1)))


def fill_nearest(values: np.ndarray) -> np.ndarray:
    """NaNs replaced by the nearest finite value (raises when there is none)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    if bad.all():
        raise ValueError("no finite value to fill from")
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return values[tuple(idx)]


def geo_tiepoints(georef: Georef, step: int = TIE_STEP) -> tuple[TiePointGrid, TiePointGrid]:
    """Latitude/longitude tie-point grids of a georeferenced raster's pixel centres."""
    rows, cols = georef.shape
    tr, tc = tie_nodes(rows, step), tie_nodes(cols, step)
    lon, lat = georef.lonlat(tr[:, None] + 0.0 * tc[None, :], tc[None, :] + 0.0 * tr[:, None])
    return TiePointGrid(tr, tc, lat), TiePointGrid(tr, tc, lon, is_longitude=True)


def ground_spacing(georef: Georef) -> tuple[float, float]:
    """(column step, row step) of the grid on the ground (m), at the grid centre."""
    rows, cols = georef.shape
    t = georef.transform
    if georef.is_geographic:
        _, lat = georef.lonlat((rows - 1) / 2.0, (cols - 1) / 2.0)
        ex, nx = degrees_to_metres(float(lat), t[1], t[4])
        ey, ny = degrees_to_metres(float(lat), t[2], t[5])
        return float(np.hypot(ex, nx)), float(np.hypot(ey, ny))
    return float(np.hypot(t[1], t[4])), float(np.hypot(t[2], t[5]))


def unit_iq(phase: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cos``/``sin`` of a phase where valid, 0 (the canonical no-data fill) elsewhere."""
    ph = np.where(valid, phase, 0.0)
    return np.where(valid, np.cos(ph), 0.0).astype(np.float32), np.where(valid, np.sin(ph), 0.0).astype(np.float32)


def common_attrs(product: GeocodedProduct, event: dict[str, Any], variant: str, **extra: Any) -> dict[str, Any]:
    """Attributes shared by both external variants (module docstring)."""
    params = {"layout": product.layout, "product_id": product.product_id, "files": product.source_files,
              "conversions": product.conversions, "metadata": product.metadata, "variant": variant}
    params.update(extra.pop("backend_extra", {}))
    attrs = base_attrs(
        event_id=str(event["id"]), reference_time=product.reference_time, secondary_time=product.secondary_time,
        track=int(product.track), flight_direction=product.flight_direction, subswath=product.subswath,
        wavelength_m=float(product.wavelength_m), heading_deg=float(product.heading_deg),
        backend="external", backend_parameters=json.loads(json.dumps(params, default=str)),
        scene_id=f"EXT_{product.product_id}", variant=variant, external_layout=product.layout,
        product_id=product.product_id,
        source_looks_range=int(product.looks_range or 0), source_looks_azimuth=int(product.looks_azimuth or 0))
    attrs.update(extra)
    return attrs


def geocoded_interferogram(product: GeocodedProduct, event: dict[str, Any], tie_step: int = TIE_STEP) -> Interferogram:
    """The canonical interferogram of ``product`` on its own grid (module docstring)."""
    valid = product.valid
    i, q = unit_iq(product.phase(), valid)
    lat, lon = geo_tiepoints(product.georef, tie_step)
    inc_nodes = fill_nearest(_sample_nodes(np.where(valid, product.incidence_deg, np.nan), lat.tie_rows, lat.tie_cols))
    incidence = TiePointGrid(lat.tie_rows, lat.tie_cols, inc_nodes)
    dx, dy = ground_spacing(product.georef)
    optional: dict[str, np.ndarray] = {"valid": valid.astype(np.uint8)}
    if product.unwrapped is not None:
        optional["unwrapped"] = np.where(valid, product.unwrapped, np.nan).astype(np.float32)
    if product.los_displacement is not None:
        optional["los_displacement"] = np.where(valid, product.los_displacement, np.nan).astype(np.float32)
    attrs = common_attrs(
        product, event, "geocoded", range_pixel_spacing_m=dx, azimuth_pixel_spacing_m=dy,
        looks_range=int(product.looks_range or 0), looks_azimuth=int(product.looks_azimuth or 0),
        pixel_spacing_kind="ground size of one column / one row step of the product's map grid (not radar spacings)",
        crs=product.georef.crs, geotransform=json.dumps(list(product.georef.transform)))
    return Interferogram(i=i, q=q, coherence=np.where(valid, product.coherence, 0.0).astype(np.float32),
                         latitude=lat, longitude=lon, incidence=incidence, attrs=attrs, optional=optional)


def _sample_nodes(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, radius: int = 2) -> np.ndarray:
    """Values at integer node positions: the mean of the finite values in a small window around each."""
    r = np.clip(rows.astype(int), 0, values.shape[0] - 1)
    c = np.clip(cols.astype(int), 0, values.shape[1] - 1)
    out = np.full((r.size, c.size), np.nan)
    for a, rr in enumerate(r):
        block = values[max(rr - radius, 0):rr + radius + 1]
        for b, cc in enumerate(c):
            win = block[:, max(cc - radius, 0):cc + radius + 1]
            finite = win[np.isfinite(win)]
            if finite.size:
                out[a, b] = finite.mean()
    return out
