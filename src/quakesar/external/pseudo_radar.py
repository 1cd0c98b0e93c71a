"""Resample a geocoded product onto a pseudo-radar grid that looks like the training data.

The models are trained on radar-geometry interferograms of the synthetic source: rows run along
the platform heading (line 0 is the earliest), columns increase in the look direction (90 deg
right of the heading, right-looking SAR), and a pixel is the training data's ground pixel
(``simulate.reduction`` x ``interferogram.multilook`` Sentinel-1 IW pixels: about 118 m in ground
range x 111 m in azimuth at reduction 8 with 4x1 looks). A geocoded product (north-up map grid,
its own posting) is put on the same kind of grid:

* **Plane.** The azimuthal-equidistant projection (WGS84) centred on the centroid of the product's
  valid pixels: the same local plane in which the synthetic scenes lay their ground track
  (:mod:`quakesar.synthetic.s1geometry`). Its scale error is ``rho^2 / (6 R^2)``, under 0.01 %
  within 150 km of the centre.
* **Axes.** Along-track unit vector ``a = (sin h, cos h)`` (east, north) of the product's heading
  ``h``; look direction ``l = (cos h, -sin h)``. Pixel ``(r, c)`` (centre) is the plane point
  ``(s0 + r ds_az) a + (g0 + c ds_rg) l``; ``s0``, ``g0`` and the size are chosen so that the grid
  covers every valid product pixel.
* **Spacing.** ``ds_rg`` = the training data's slant-range pixel (``2.329562 m x reduction x range
  looks``) divided by ``sin`` of the product's incidence at its centre: the ground-range pixel the
  training data had at that incidence; ``ds_az`` = the training azimuth pixel (ground speed x line
  interval x reduction x azimuth looks). Both come from the config (:func:`training_pixel_spacing`)
  or are given explicitly (``external.grid.pixel_spacing``).
* **Sampling.** The product pixel position of every pseudo-radar pixel is computed exactly at tie
  nodes every ``tie_step`` pixels (plane -> lon/lat -> product CRS -> inverse geotransform) and
  bilinearly in between (the map is smooth: the interpolation error is far below 0.01 pixel).
  Where the product is finer than the grid by a factor ``k >= 2`` it is first box-averaged over
  the odd number of product pixels nearest to ``k`` (the area average the patch stage also uses;
  odd, so that the box stays centred on its pixel); then values are
  interpolated bilinearly with the valid mask as weight (``A(x m) / A(m)``), a pixel being valid
  when at least half its interpolation weight is. The wrapped phase is resampled as the complex
  ``exp(i phase)`` and returned as unit modulus; coherence, unwrapped phase and LOS displacement
  as values.
* **Geolocation.** ``latitude``/``longitude`` tie-point grids are the exact inverse projection of
  the pixel centres at the tie nodes, so the patch stage's corners (outer pixel edges
  interpolated from them) are the true corners to well below a metre (tests/test_external_grid.py).

What carries over from the training data and what does not is in docs/external.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from quakesar.external.geocoded import TIE_STEP, common_attrs, fill_nearest, ground_spacing, tie_nodes
from quakesar.external.product import GeocodedProduct
from quakesar.interferogram.canonical import Interferogram
from quakesar.tiepoints import TiePointGrid

MAX_FOOTPRINT_POINTS = 400_000
MAX_GRID_PIXELS = 60_000_000  # ~3 GB of work arrays; a LiCSAR frame at the reduction-8 pixel is 5.5 Mpx


def training_pixel_spacing(config: dict[str, Any], incidence_deg: float) -> tuple[float, float, dict[str, Any]]:
    """(ground range m, azimuth m, how) of the training data's pixel at ``incidence_deg``.

    ``external.grid.pixel_spacing`` ``{range_m, azimuth_m}`` when set; otherwise from the synthetic
    source the models were trained on: ``simulate.mode``/``simulate.reduction`` and
    ``interferogram.multilook`` (module docstring).
    """
    from quakesar.synthetic.s1geometry import AZIMUTH_TIME_INTERVAL_S, RANGE_PIXEL_SPACING_M, ground_speed_m_s

    grid = ((config.get("external") or {}).get("grid") or {})
    explicit = grid.get("pixel_spacing")
    if explicit:
        rg, az = float(explicit["range_m"]), float(explicit["azimuth_m"])
        if rg <= 0 or az <= 0:
            raise ValueError(f"external.grid.pixel_spacing: positive range_m and azimuth_m needed, got {explicit}")
        return rg, az, {"source": "external.grid.pixel_spacing", "range_m": rg, "azimuth_m": az}
    sim = config.get("simulate") or {}
    ml = (config.get("interferogram") or {}).get("multilook") or {}
    reduction = 1 if sim.get("mode", "reduced") == "full" else int(sim.get("reduction", 8))
    looks_rg, looks_az = int(ml.get("range", 4)), int(ml.get("azimuth", 1))
    slant = RANGE_PIXEL_SPACING_M * reduction * looks_rg
    rg = slant / math.sin(math.radians(incidence_deg))
    az = ground_speed_m_s() * AZIMUTH_TIME_INTERVAL_S * reduction * looks_az
    how = {"source": "training data (simulate, interferogram.multilook)", "reduction": reduction,
           "looks_range": looks_rg, "looks_azimuth": looks_az, "slant_range_spacing_m": slant,
           "incidence_deg": incidence_deg, "range_m": rg, "azimuth_m": az}
    return rg, az, how


@dataclass(frozen=True)
class PseudoRadarGrid:
    """A heading-aligned grid in the azimuthal-equidistant plane centred at (lat0, lon0) (module docstring)."""

    lat0: float
    lon0: float
    heading_deg: float
    s0: float
    g0: float
    azimuth_spacing_m: float
    range_spacing_m: float
    rows: int
    cols: int

    def _aeqd(self) -> str:
        return f"+proj=aeqd +lat_0={self.lat0!r} +lon_0={self.lon0!r} +datum=WGS84 +units=m +no_defs"

    def plane(self, rows: Any, cols: Any) -> tuple[np.ndarray, np.ndarray]:
        """(east, north) plane coordinates (m) of (fractional) pixel positions."""
        h = math.radians(self.heading_deg)
        s = self.s0 + np.asarray(rows, dtype=np.float64) * self.azimuth_spacing_m
        g = self.g0 + np.asarray(cols, dtype=np.float64) * self.range_spacing_m
        return s * math.sin(h) + g * math.cos(h), s * math.cos(h) - g * math.sin(h)

    def lonlat(self, rows: Any, cols: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 longitude/latitude of (fractional) pixel positions."""
        from pyproj import Transformer

        x, y = self.plane(rows, cols)
        lon, lat = Transformer.from_crs(self._aeqd(), "EPSG:4326", always_xy=True).transform(x, y)
        return np.asarray(lon), np.asarray(lat)

    def along_across(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """(s, g): along-track and ground-range plane coordinates (m) of WGS84 points."""
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", self._aeqd(), always_xy=True).transform(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        h = math.radians(self.heading_deg)
        return x * math.sin(h) + y * math.cos(h), x * math.cos(h) - y * math.sin(h)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def design_grid(product: GeocodedProduct, range_spacing_m: float, azimuth_spacing_m: float) -> PseudoRadarGrid:
    """The pseudo-radar grid covering the valid pixels of ``product`` (module docstring)."""
    rows, cols = np.nonzero(product.valid)
    stride = max(1, int(math.ceil(rows.size / MAX_FOOTPRINT_POINTS)))
    rows, cols = rows[::stride], cols[::stride]
    lon, lat = product.georef.lonlat(rows, cols)
    lon0 = float(np.degrees(np.arctan2(np.sin(np.radians(lon)).mean(), np.cos(np.radians(lon)).mean())))
    lat0 = float(np.mean(lat))
    probe = PseudoRadarGrid(lat0, lon0, float(product.heading_deg), 0.0, 0.0, 1.0, 1.0, 1, 1)
    # pixel extent: the corners of each valid pixel, not only its centre
    corners_s, corners_g = [], []
    for dr, dc in ((-0.5, -0.5), (-0.5, 0.5), (0.5, 0.5), (0.5, -0.5)):
        lo, la = product.georef.lonlat(rows + dr, cols + dc)
        s, g = probe.along_across(lo, la)
        corners_s.append(s)
        corners_g.append(g)
    s_all, g_all = np.concatenate(corners_s), np.concatenate(corners_g)
    s0 = float(s_all.min()) + azimuth_spacing_m / 2.0
    g0 = float(g_all.min()) + range_spacing_m / 2.0
    n_rows = max(2, int(math.ceil((float(s_all.max()) - float(s_all.min())) / azimuth_spacing_m)))
    n_cols = max(2, int(math.ceil((float(g_all.max()) - float(g_all.min())) / range_spacing_m)))
    if n_rows * n_cols > MAX_GRID_PIXELS:
        raise ValueError(f"{product.product_id}: the pseudo-radar grid would be {n_rows} x {n_cols} pixels at "
                         f"{range_spacing_m:.1f} m x {azimuth_spacing_m:.1f} m (limit {MAX_GRID_PIXELS:,}); clip the "
                         "product around the epicentre, or train and import at a coarser pixel (simulate.reduction)")
    return PseudoRadarGrid(lat0, lon0, float(product.heading_deg), s0, g0, float(azimuth_spacing_m),
                           float(range_spacing_m), n_rows, n_cols)


def odd_box(ratio: float) -> int:
    """The box size (product pixels) for a grid ``ratio`` times coarser than the product: the odd integer
    nearest to it (1 below 2). Odd, because an even box is centred half a pixel off its pixel and would
    shift the field by half a product pixel."""
    if ratio < 2.0:
        return 1
    return 2 * int(math.floor((ratio - 1.0) / 2.0 + 0.5)) + 1


def _box(values: np.ndarray, mask: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Masked box average over ``size`` pixels: (average, valid fraction)."""
    frac = ndimage.uniform_filter(mask.astype(np.float64), size=size, mode="constant")
    num = ndimage.uniform_filter(np.where(mask, values, 0.0), size=size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(frac > 0, num / np.maximum(frac, 1e-300), 0.0), frac


def resample(product: GeocodedProduct, grid: PseudoRadarGrid, tie_step: int = TIE_STEP) -> dict[str, Any]:
    """Product rasters on ``grid`` (module docstring): ``z`` complex unit phasor, ``coherence``,
    ``unwrapped``/``los_displacement`` when present, ``incidence`` (filled), ``valid``, and the
    ``latitude``/``longitude``/``product_row``/``product_col`` tie-point grids."""
    tr, tc = tie_nodes(grid.rows, tie_step), tie_nodes(grid.cols, tie_step)
    rr, cc = np.meshgrid(tr, tc, indexing="ij")
    lon, lat = grid.lonlat(rr, cc)
    prow, pcol = product.georef.rowcol(*product.georef.from_lonlat(lon, lat))
    g_row, g_col = TiePointGrid(tr, tc, prow), TiePointGrid(tr, tc, pcol)
    full = (slice(0, grid.rows), slice(0, grid.cols))
    coords = np.stack([g_row.raster(*full), g_col.raster(*full)])

    dx, dy = ground_spacing(product.georef)
    target = 0.5 * (grid.range_spacing_m + grid.azimuth_spacing_m)
    k = (odd_box(target / dy), odd_box(target / dx))
    box = k[0] > 1 or k[1] > 1
    mask = product.valid
    phase = product.phase()
    fields = {"re": np.cos(np.where(mask, phase, 0.0)), "im": np.sin(np.where(mask, phase, 0.0)),
              "coherence": product.coherence}
    if product.unwrapped is not None:
        fields["unwrapped"] = product.unwrapped
    if product.los_displacement is not None:
        fields["los_displacement"] = product.los_displacement
    frac = mask.astype(np.float64)
    if box:
        averaged = {name: _box(v, mask, k)[0] for name, v in fields.items()}
        frac = _box(np.zeros(mask.shape), mask, k)[1]
        fields = averaged
    weight = ndimage.map_coordinates(frac, coords, order=1, mode="constant", cval=0.0)
    valid = weight >= 0.5
    out: dict[str, Any] = {}
    for name, v in fields.items():
        num = ndimage.map_coordinates(np.where(frac > 0, v * frac, 0.0), coords, order=1, mode="constant", cval=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(valid, num / np.maximum(weight, 1e-300), np.nan)
    z = out.pop("re") + 1j * out.pop("im")
    amp = np.abs(z)
    valid &= np.isfinite(amp) & (amp > 1e-6)
    out["z"] = np.where(valid, z / np.where(valid, amp, 1.0), 0.0)
    out["valid"] = valid
    inc_filled = fill_nearest(np.where(mask, product.incidence_deg, np.nan))
    inc_nodes = ndimage.map_coordinates(inc_filled, np.stack([np.clip(prow, 0, product.shape[0] - 1),
                                                              np.clip(pcol, 0, product.shape[1] - 1)]),
                                        order=1, mode="nearest")
    out["incidence"] = TiePointGrid(tr, tc, inc_nodes)
    out["latitude"] = TiePointGrid(tr, tc, lat)
    out["longitude"] = TiePointGrid(tr, tc, lon, is_longitude=True)
    out["product_row"], out["product_col"] = g_row, g_col
    out["prefilter_box"] = list(k) if box else None
    return out


def pseudo_radar_interferogram(product: GeocodedProduct, event: dict[str, Any], config: dict[str, Any],
                               tie_step: int = TIE_STEP) -> tuple[Interferogram, PseudoRadarGrid]:
    """The canonical interferogram of ``product`` on its pseudo-radar grid, and the grid."""
    centre = np.nanmedian(product.incidence_deg[product.valid])
    rg, az, how = training_pixel_spacing(config, float(centre))
    grid = design_grid(product, rg, az)
    res = resample(product, grid, tie_step)
    dx, dy = ground_spacing(product.georef)
    coarser = max(dx, dy) > 1.5 * max(rg, az)
    if coarser:
        import logging

        logging.getLogger(__name__).warning(
            "%s: the product's pixel (%.0f m x %.0f m) is coarser than the training pixel (%.0f m x %.0f m): the "
            "patches are interpolated up and smoother than the training data", product.product_id, dx, dy, rg, az)
    valid = res["valid"]
    ml = (config.get("interferogram") or {}).get("multilook") or {}
    optional: dict[str, np.ndarray] = {"valid": valid.astype(np.uint8)}
    for name in ("unwrapped", "los_displacement"):
        if name in res:
            optional[name] = np.where(valid, res[name], np.nan).astype(np.float32)
    attrs = common_attrs(
        product, event, "pseudo_radar",
        range_pixel_spacing_m=rg, azimuth_pixel_spacing_m=az,
        looks_range=int(how.get("looks_range", ml.get("range", 4))),
        looks_azimuth=int(how.get("looks_azimuth", ml.get("azimuth", 1))),
        pixel_spacing_kind="ground range / along-track ground spacing of the pseudo-radar grid "
                           "(the training data's ground pixel at the scene-centre incidence)",
        pseudo_radar_grid=grid.to_json(), training_grid=json.dumps(how),
        backend_extra={"pseudo_radar_grid": json.loads(grid.to_json()), "training_grid": how,
                       "prefilter_box_product_pixels": res["prefilter_box"],
                       "product_pixel_m": [dx, dy], "product_coarser_than_training_pixel": coarser})
    ifg = Interferogram(
        i=np.real(res["z"]).astype(np.float32), q=np.imag(res["z"]).astype(np.float32),
        coherence=np.where(valid, res["coherence"], 0.0).astype(np.float32),
        latitude=res["latitude"], longitude=res["longitude"], incidence=res["incidence"], attrs=attrs,
        optional=optional)
    return ifg, grid
