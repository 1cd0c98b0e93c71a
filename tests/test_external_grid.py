"""The geocoded and pseudo-radar variants of the canonical interferogram: geolocation, orientation,
pixel size and the patch corners, checked against the product's own geotransform.

Tolerances (stated in docs/external.md): geolocation of the geocoded variant's tie-point grids
within 5 cm of the exact projection of every pixel centre (UTM, 16-pixel nodes) and exact for
lat/lon grids; the
pseudo-radar grid's rows along the heading and columns 90 deg to its right within 0.05 deg, its
pixel within 0.05 % of the training pixel; a field linear in the product's map coordinates read
back through the pseudo-radar file's geolocation within the equivalent of 0.5 m; patch corners
within 0.5 m of the grid's exact corners.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from scipy import ndimage

from quakesar.convention import los_to_phase, wrap
from quakesar.external.geocoded import geocoded_interferogram, ground_spacing
from quakesar.external.product import GeocodedProduct
from quakesar.external.pseudo_radar import pseudo_radar_interferogram, training_pixel_spacing
from quakesar.external.raster import Georef
from quakesar.interferogram.canonical import read_interferogram, write_interferogram
from quakesar.patches.tiling import tile_event
from quakesar.synthetic.s1geometry import SubswathGrid

GEOD = Geod(ellps="WGS84")
EVENT = {"id": "evgrid", "time": "2021-03-03T10:16:09Z", "latitude": 39.7546, "longitude": 22.1757,
         "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3, "depth_km": 8.0}
CFG = {"simulate": {"mode": "reduced", "reduction": 8}, "interferogram": {"multilook": {"range": 4, "azimuth": 1}}}


def _utm_product(step_m: float, rows: int, cols: int, heading: float = -12.3, field: str = "linear") -> GeocodedProduct:
    epsg = "EPSG:32634"
    fwd = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    xc, yc = fwd.transform(EVENT["longitude"], EVENT["latitude"])
    x0, y0 = round(xc - cols / 2 * step_m), round(yc + rows / 2 * step_m)
    geo = Georef(epsg, (float(x0), step_m, 0.0, float(y0), 0.0, -step_m), (rows, cols))
    rr, cc = np.mgrid[0:rows, 0:cols]
    x, y = geo.xy(rr, cc)
    if field == "linear":
        unw = 1e-3 * (x - xc) - 0.6e-3 * (y - yc)  # rad, 1 rad per km east
    else:
        unw = los_to_phase(0.08 * np.exp(-((x - xc) ** 2 + (y - yc) ** 2) / (2 * 3000.0**2)))
    valid = np.ones((rows, cols), bool)
    valid[:2, :] = False
    return GeocodedProduct(product_id="p", layout="geotiff", georef=geo, coherence=np.full((rows, cols), 0.7),
                           valid=valid, incidence_deg=33.0 + 10.0 * cc / cols, heading_deg=heading,
                           reference_time="2021-02-24T16:27:30Z", secondary_time="2021-03-08T16:27:31Z",
                           flight_direction="ascending" if abs(heading) < 90 else "descending", track=131,
                           subswath="IW", unwrapped=np.where(valid, unw, np.nan), wrapped=np.where(valid, wrap(unw), np.nan))


def test_training_pixel_comes_from_the_config() -> None:
    rg, az, how = training_pixel_spacing(CFG, 39.0)
    iw2 = SubswathGrid.build("IW2", 8)  # the synthetic scenes' own grid at reduction 8
    assert rg == pytest.approx(iw2.range_spacing_m * 4 / math.sin(math.radians(39.0)), rel=1e-12)
    assert az == pytest.approx(iw2.azimuth_spacing_m, rel=1e-12)
    assert rg == pytest.approx(118.5, abs=0.5) and az == pytest.approx(111.4, abs=0.5)
    rg2, az2, _ = training_pixel_spacing({"simulate": {"reduction": 16}, "interferogram": {"multilook": {"range": 2, "azimuth": 3}}}, 39.0)
    assert (rg2, az2) == pytest.approx((rg, 6 * az))
    full, _, _ = training_pixel_spacing({"simulate": {"mode": "full", "reduction": 8}, "interferogram": CFG["interferogram"]}, 39.0)
    assert full == pytest.approx(rg / 8)
    rg3, az3, how3 = training_pixel_spacing({**CFG, "external": {"grid": {"pixel_spacing": {"range_m": 90, "azimuth_m": 95}}}}, 39)
    assert (rg3, az3, how3["source"]) == (90.0, 95.0, "external.grid.pixel_spacing")


@pytest.mark.parametrize("heading", [-12.3, -167.6])
def test_pseudo_radar_rows_follow_the_heading_columns_the_look(heading: float) -> None:
    product = _utm_product(80.0, 140, 150, heading)
    ifg, grid = pseudo_radar_interferogram(product, EVENT, CFG)
    rg, az, _ = training_pixel_spacing(CFG, float(np.nanmedian(product.incidence_deg)))
    assert (grid.range_spacing_m, grid.azimuth_spacing_m) == pytest.approx((rg, az))
    r, c = ifg.shape[0] // 2, ifg.shape[1] // 2
    lat, lon = ifg.latitude, ifg.longitude
    fwd, _, dist = GEOD.inv(lon.at(r, c), lat.at(r, c), lon.at(r + 10, c), lat.at(r + 10, c))
    assert (fwd - heading + 180) % 360 - 180 == pytest.approx(0.0, abs=0.05)
    assert dist == pytest.approx(10 * az, rel=5e-4)
    fwd, _, dist = GEOD.inv(lon.at(r, c), lat.at(r, c), lon.at(r, c + 10), lat.at(r, c + 10))
    assert (fwd - heading - 90 + 180) % 360 - 180 == pytest.approx(0.0, abs=0.05)
    assert dist == pytest.approx(10 * rg, rel=5e-4)
    # corner 00 is the early-azimuth near-range corner: south-west on ascending, north-east on descending
    la00, lo00 = lat.at(-0.5, -0.5), lon.at(-0.5, -0.5)
    la11, lo11 = lat.at(ifg.shape[0] - 0.5, ifg.shape[1] - 0.5), lon.at(ifg.shape[0] - 0.5, ifg.shape[1] - 0.5)
    assert (la00 < la11 and lo00 < lo11) if heading > -90 else (la00 > la11 and lo00 > lo11)
    assert ifg.attrs["variant"] == "pseudo_radar" and ifg.attrs["heading_deg"] == pytest.approx(heading)


@pytest.mark.parametrize("step_m", [80.0, 20.0])
def test_linear_field_read_back_through_the_geolocation(step_m: float) -> None:
    """The product's value at a pixel is a linear function of its map coordinates (its geotransform);
    the pseudo-radar value at any pixel must equal that function at the pixel's geolocation. 20 m
    products are box-averaged first (odd box, no shift); 80 m ones are sampled directly."""
    n = int(round(12_000 / step_m))
    product = _utm_product(step_m, n, n + 10)
    ifg, grid = pseudo_radar_interferogram(product, EVENT, CFG)
    valid = ifg.optional["valid"].astype(bool)
    core = ndimage.binary_erosion(valid, iterations=3)
    assert core.sum() > 500
    rr, cc = np.nonzero(core)
    lon, lat = ifg.longitude.at(rr, cc), ifg.latitude.at(rr, cc)
    x, y = product.georef.from_lonlat(lon, lat)
    xc, yc = Transformer.from_crs("EPSG:4326", "EPSG:32634", always_xy=True).transform(EVENT["longitude"], EVENT["latitude"])
    expected = 1e-3 * (x - xc) - 0.6e-3 * (y - yc)
    err = ifg.optional["unwrapped"][rr, cc] - expected
    assert np.max(np.abs(err)) < 0.5 * math.hypot(1e-3, 0.6e-3)  # 0.5 m of position
    assert np.allclose(np.hypot(ifg.i[valid], ifg.q[valid]), 1.0, atol=1e-6)  # unit modulus
    assert np.all(ifg.i[~valid] == 0) and np.all(ifg.coherence[~valid] == 0)
    assert (ifg.attrs["backend_parameters"]["prefilter_box_product_pixels"] is not None) == (step_m == 20.0)
    # every valid product pixel centre falls inside the grid
    pr, pc = np.nonzero(product.valid)
    s, g = grid.along_across(*product.georef.lonlat(pr, pc))
    rows = (s - grid.s0) / grid.azimuth_spacing_m
    cols = (g - grid.g0) / grid.range_spacing_m
    assert rows.min() >= -0.5 and rows.max() <= grid.rows - 0.5 and cols.min() >= -0.5 and cols.max() <= grid.cols - 0.5


def test_deformation_peak_lands_on_the_epicentre(tmp_path: Path) -> None:
    product = _utm_product(80.0, 160, 170, field="bump")
    ifg, _ = pseudo_radar_interferogram(product, EVENT, CFG)
    los = -ifg.optional["unwrapped"] * 0.0554658 / (4 * math.pi)
    top = np.nan_to_num(los, nan=0.0)
    w = np.where(top > 0.95 * np.nanmax(top), top, 0.0)
    rr, cc = np.mgrid[0:w.shape[0], 0:w.shape[1]]
    r0, c0 = (w * rr).sum() / w.sum(), (w * cc).sum() / w.sum()
    _, _, miss = GEOD.inv(ifg.longitude.at(r0, c0), ifg.latitude.at(r0, c0), EVENT["longitude"], EVENT["latitude"])
    assert miss < 15.0  # m, well below one 118 m pixel


@pytest.mark.parametrize("heading", [-12.3, -167.6])
def test_patch_corners_are_the_grids_true_corners(tmp_path: Path, heading: float) -> None:
    product = _utm_product(80.0, 150, 160, heading, field="bump")
    ifg, grid = pseudo_radar_interferogram(product, EVENT, CFG)
    path = tmp_path / "ext_p.h5"
    write_interferogram(path, ifg)
    window = 40
    tile_event(EVENT, [path], {"window": window, "size": 8, "min_valid_fraction": 0.5}, tmp_path / "p.h5",
               tmp_path / "p.csv")
    df = pd.read_csv(tmp_path / "p.csv")
    assert len(df) >= 4
    worst = 0.0
    for _, row in df.iterrows():
        for name, (r, c) in {"00": (row.row0, row.col0), "01": (row.row0, row.col1), "11": (row.row1, row.col1),
                             "10": (row.row1, row.col0)}.items():
            lon, lat = grid.lonlat(r - 0.5, c - 0.5)
            worst = max(worst, GEOD.inv(float(lon), float(lat), row[f"corner_{name}_lon"], row[f"corner_{name}_lat"])[2])
        # a patch covers the training data's footprint: window x the training pixel
        d_az = GEOD.inv(row.corner_00_lon, row.corner_00_lat, row.corner_10_lon, row.corner_10_lat)[2]
        d_rg = GEOD.inv(row.corner_00_lon, row.corner_00_lat, row.corner_01_lon, row.corner_01_lat)[2]
        assert d_az == pytest.approx(window * grid.azimuth_spacing_m, rel=5e-4)
        assert d_rg == pytest.approx(window * grid.range_spacing_m, rel=5e-4)
    assert worst < 0.5
    assert set(df.flight_direction) == {"ascending" if heading > -90 else "descending"}


def test_geocoded_variant_geolocation_is_the_geotransform(tmp_path: Path) -> None:
    product = _utm_product(80.0, 70, 90)
    ifg = geocoded_interferogram(product, EVENT, tie_step=16)
    path = tmp_path / "ext_p.geo.h5"
    write_interferogram(path, ifg)
    back = read_interferogram(path)
    rr, cc = np.mgrid[0:70, 0:90]
    lon, lat = product.georef.lonlat(rr, cc)
    err = GEOD.inv(back.longitude.at(rr, cc).ravel(), back.latitude.at(rr, cc).ravel(), lon.ravel(), lat.ravel())[2]
    assert err.max() < 0.05  # m: bilinear between 16-pixel (1.3 km) nodes of a UTM grid, 2.7 cm here
    dx, dy = ground_spacing(product.georef)
    a = back.attrs
    assert a["variant"] == "geocoded" and a["range_pixel_spacing_m"] == pytest.approx(dx) == pytest.approx(80.0)
    assert a["azimuth_pixel_spacing_m"] == pytest.approx(dy) and a["backend"] == "external" and "32634" in a["crs"]
    np.testing.assert_allclose(back.optional["unwrapped"][2:], product.unwrapped[2:], rtol=1e-6)
    assert (back.optional["valid"] == product.valid).all()
    np.testing.assert_allclose(back.incidence.at(35, 45), product.incidence_deg[35, 45], atol=0.05)
    # a lat/lon grid: latitude and longitude are linear in row and column, so the tie points are exact
    geo = Georef("EPSG:4326", (22.0, 0.001, 0.0, 39.9, 0.0, -0.001), (50, 60))
    ll = GeocodedProduct(**{**product.__dict__, "georef": geo, "coherence": product.coherence[:50, :60],
                            "valid": product.valid[:50, :60], "incidence_deg": product.incidence_deg[:50, :60],
                            "unwrapped": product.unwrapped[:50, :60], "wrapped": product.wrapped[:50, :60]})
    g = geocoded_interferogram(ll, EVENT)
    np.testing.assert_allclose(g.longitude.at(17, 33), 22.0 + 33.5 * 0.001, atol=1e-12)
    np.testing.assert_allclose(g.latitude.at(17, 33), 39.9 - 17.5 * 0.001, atol=1e-12)
