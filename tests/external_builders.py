"""Build tiny external products in their exact file layouts (for tests and the .test/external scenario).

Rasters are written with rasterio as the real products are (GeoTIFF, EPSG:4326 for LiCSAR, UTM
for HyP3; float32, LiCSAR coherence uint8 0-255), raw float32 + ROI_PAC ``.rsc`` for the generic
reader. The metadata text files are the real ones in tests/fixtures/external with only the
granule names, pass, heading and dates replaced, so the parsers see the real layout.

The deformation is a known field: a Gaussian LOS bump of ``peak_m`` (positive towards the
satellite) of e-folding radius ``sigma_m`` at the epicentre, plus a small linear ramp, so that
tests can compare what comes out with what went in, in both signs.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quakesar.convention import WAVELENGTH_M, los_to_phase, los_unit_vector, wrap

FIX = Path(__file__).parent / "fixtures" / "external"


@dataclass
class Truth:
    lon: np.ndarray
    lat: np.ndarray
    los_m: np.ndarray
    incidence_deg: np.ndarray
    heading_deg: float
    transform: tuple
    crs: str


def write_geotiff(path: Path, array: np.ndarray, transform: tuple, crs: str, nodata: float | None = None,
                  dtype: str = "float32") -> None:
    import rasterio
    from rasterio.transform import Affine

    path.parent.mkdir(parents=True, exist_ok=True)
    t0, t1, t2, t3, t4, t5 = transform
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1, dtype=dtype,
                       crs=crs, transform=Affine(t1, t2, t0, t4, t5, t3), nodata=nodata) as ds:
        ds.write(array.astype(dtype), 1)


def _field(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float], peak_m: float, sigma_m: float,
           heading_deg: float, cols: np.ndarray, ncols: int) -> tuple[np.ndarray, np.ndarray]:
    lat0, lon0 = centre
    east = (lon - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    north = (lat - lat0) * 110_574.0
    r2 = east**2 + north**2
    los = peak_m * np.exp(-r2 / (2 * sigma_m**2)) + 1e-7 * east
    # incidence grows in the look direction (heading + 90), 33 -> 43 deg across the grid
    h = math.radians(heading_deg)
    look = east * math.cos(h) - north * math.sin(h)
    span = np.nanmax(look) - np.nanmin(look)
    inc = 33.0 + 10.0 * (look - np.nanmin(look)) / (span if span > 0 else 1.0)
    return los, inc


def geographic_grid(centre: tuple[float, float], rows: int, cols: int, step_deg: float) -> tuple[tuple, np.ndarray, np.ndarray]:
    lat0, lon0 = centre
    x0 = lon0 - cols / 2 * step_deg
    y0 = lat0 + rows / 2 * step_deg
    transform = (x0, step_deg, 0.0, y0, 0.0, -step_deg)
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    lon = x0 + (cc + 0.5) * step_deg
    lat = y0 - (rr + 0.5) * step_deg
    return transform, lon, lat


def utm_grid(centre: tuple[float, float], rows: int, cols: int, step_m: float) -> tuple[tuple, str, np.ndarray, np.ndarray]:
    from pyproj import Transformer

    lat0, lon0 = centre
    zone = int((lon0 + 180) // 6) + 1
    epsg = f"EPSG:{32600 + zone if lat0 >= 0 else 32700 + zone}"
    fwd = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    inv = Transformer.from_crs(epsg, "EPSG:4326", always_xy=True)
    xc, yc = fwd.transform(lon0, lat0)
    x0 = round((xc - cols / 2 * step_m) / step_m) * step_m
    y0 = round((yc + rows / 2 * step_m) / step_m) * step_m
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    lon, lat = inv.transform(x0 + (cc + 0.5) * step_m, y0 - (rr + 0.5) * step_m)
    return (x0, step_m, 0.0, y0, 0.0, -step_m), epsg, np.asarray(lon), np.asarray(lat)


def _coherence(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(0.55 + 0.3 * rng.random(shape), 0.0, 1.0)


def build_licsar(root: Path, frame: str, pair: str, centre: tuple[float, float], heading_deg: float,
                 rows: int = 120, cols: int = 140, step_deg: float = 0.001, peak_m: float = 0.08,
                 sigma_m: float = 3000.0, cc_uint8: bool = True, center_time: str | None = "04:35:12.512",
                 nodata_border: int = 3) -> Truth:
    """A LiCSAR frame folder ``<root>/<frame>/{interferograms/<pair>/, metadata/}``."""
    transform, lon, lat = geographic_grid(centre, rows, cols, step_deg)
    los, inc = _field(lon, lat, centre, peak_m, sigma_m, heading_deg, None, cols)
    enu = los_unit_vector(inc, heading_deg)
    unw = los_to_phase(los)
    cc = _coherence(lon.shape, 3)
    border = np.zeros(lon.shape, bool)
    border[:nodata_border, :] = border[-nodata_border:, :] = True  # LiCSAR's 0 fill outside the frame
    ifg_dir = root / frame / "interferograms" / pair
    meta_dir = root / frame / "metadata"
    write_geotiff(ifg_dir / f"{pair}.geo.unw.tif", np.where(border, 0.0, unw), transform, "EPSG:4326")
    write_geotiff(ifg_dir / f"{pair}.geo.diff_pha.tif", np.where(border, 0.0, wrap(unw)), transform, "EPSG:4326")
    if cc_uint8:
        write_geotiff(ifg_dir / f"{pair}.geo.cc.tif", np.where(border, 0, np.round(cc * 255)), transform, "EPSG:4326",
                      dtype="uint8")
    else:
        write_geotiff(ifg_dir / f"{pair}.geo.cc.tif", np.where(border, 0.0, cc), transform, "EPSG:4326")
    for k, name in enumerate("ENU"):
        write_geotiff(meta_dir / f"{frame}.geo.{name}.tif", enu[..., k], transform, "EPSG:4326")
    text = (FIX / "licsar" / "149A_11032_131313_metadata.txt").read_text()
    text = text.replace("heading=-13.775063", f"heading={heading_deg}")
    if center_time:
        text = text.replace("master=20190504\n", f"master=20190504\ncenter_time={center_time}\n")
    meta_dir.mkdir(parents=True, exist_ok=True)
    (meta_dir / "metadata.txt").write_text(text)
    return Truth(lon, lat, np.where(border, np.nan, los), inc, heading_deg, transform, "EPSG:4326")


def _hyp3_txt(template: str, ref: str, sec: str, direction: str, heading_deg: float) -> str:
    lines = []
    for ln in (FIX / "hyp3" / template).read_text().splitlines():
        key = ln.split(":", 1)[0]
        value = {"Reference Granule": ref, "Secondary Granule": sec, "Reference Pass Direction": direction.upper(),
                 "Secondary Pass Direction": direction.upper(), "Heading": repr(heading_deg)}.get(key)
        lines.append(ln if value is None else f"{key}: {value}")
    return "\n".join(lines) + "\n"


def build_hyp3(root: Path, job: str, centre: tuple[float, float], t1: dt.datetime, t2: dt.datetime,
               heading_deg: float, rows: int = 100, cols: int = 110, step_m: float = 80.0, peak_m: float = 0.08,
               sigma_m: float = 3000.0, zipped: bool = False, look_vectors: bool = True, wrapped: bool = True,
               los_disp: bool = True) -> tuple[Truth, str]:
    """An ASF HyP3 product folder (or zip); ``job`` is ``gamma`` or ``isce_burst``. Returns (truth, name)."""
    direction = "ascending" if math.cos(math.radians(heading_deg)) > 0 else "descending"
    transform, epsg, lon, lat = utm_grid(centre, rows, cols, step_m)
    los, inc = _field(lon, lat, centre, peak_m, sigma_m, heading_deg, None, cols)
    enu = los_unit_vector(inc, heading_deg)
    unw = los_to_phase(los)
    corr = _coherence(lon.shape, 5)
    if job == "gamma":
        ref = f"S1A_IW_SLC__1SDV_{t1:%Y%m%dT%H%M%S}_{t1 + dt.timedelta(seconds=27):%Y%m%dT%H%M%S}_054653_06A742_11FC"
        sec = f"S1A_IW_SLC__1SDV_{t2:%Y%m%dT%H%M%S}_{t2 + dt.timedelta(seconds=27):%Y%m%dT%H%M%S}_054828_06AD4D_324B"
        days = (t2.date() - t1.date()).days
        name = f"S1AA_{t1:%Y%m%dT%H%M%S}_{t2:%Y%m%dT%H%M%S}_VVP{days:03d}_INT80_G_ueF_C070"
        txt = _hyp3_txt("slc_pair_t108_parameters.txt", ref, sec, direction, heading_deg)
        readme_name, readme = f"{name}.README.md.txt", (FIX / "ecat" /
                                                        "S1AA_20240707T100141_20240719T100140_VVR012_INT80_G_ueF_C070.README.md").read_text()
    else:
        ref = f"S1_136232_IW2_{t1:%Y%m%dT%H%M%S}_VV_7C85-BURST"
        sec = f"S1_136232_IW2_{t2:%Y%m%dT%H%M%S}_VV_5D11-BURST"
        name = f"S1_136232_IW2_{t1:%Y%m%d}_{t2:%Y%m%d}_VV_INT80_663F"
        txt = _hyp3_txt("S1_136232_IW2_20200604_20200616_VV_INT80_663F.txt", ref, sec, direction, heading_deg)
        readme_name, readme = f"{name}_README.md.txt", (FIX / "hyp3" /
                                                        "S1_136232_IW2_20200604_20200616_VV_INT80_663F_README.md.txt").read_text()
    folder = root / name
    write_geotiff(folder / f"{name}_unw_phase.tif", unw, transform, epsg, nodata=0.0)
    write_geotiff(folder / f"{name}_corr.tif", corr, transform, epsg, nodata=0.0)
    if wrapped:
        write_geotiff(folder / f"{name}_wrapped_phase.tif", wrap(unw), transform, epsg, nodata=0.0)
    if los_disp:
        write_geotiff(folder / f"{name}_los_disp.tif", los, transform, epsg, nodata=0.0)
    if look_vectors:
        theta = np.arcsin(np.clip(enu[..., 2], -1, 1))
        phi = np.arctan2(enu[..., 1], enu[..., 0])
        write_geotiff(folder / f"{name}_lv_theta.tif", theta, transform, epsg, nodata=0.0)
        write_geotiff(folder / f"{name}_lv_phi.tif", phi, transform, epsg, nodata=0.0)
    (folder / f"{name}.txt").write_text(txt)
    (folder / readme_name).write_text(readme)
    if zipped:
        archive = root / f"{name}.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for p in sorted(folder.iterdir()):
                zf.write(p, f"{name}/{p.name}")
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    return Truth(lon, lat, los, inc, heading_deg, transform, epsg), name


def build_raw_rsc(folder: Path, stem: str, centre: tuple[float, float], heading_deg: float, rows: int = 90,
                  cols: int = 100, step_deg: float = 8.3333333e-4, peak_m: float = 0.05, sigma_m: float = 2500.0,
                  sign: float = 1.0, byte_order: str = "<") -> Truth:
    """Raw float32 unwrapped phase (times ``sign``), coherence and incidence with ROI_PAC ``.rsc`` headers.

    The header text is the real ``.rsc`` of tests/fixtures/external/ecat with WIDTH, FILE_LENGTH,
    X_FIRST, Y_FIRST replaced.
    """
    transform, lon, lat = geographic_grid(centre, rows, cols, step_deg)
    los, inc = _field(lon, lat, centre, peak_m, sigma_m, heading_deg, None, cols)
    phase = sign * los_to_phase(los)
    corr = _coherence(lon.shape, 7)
    template = (FIX / "ecat" / "geo_20211229_20220110.phs.rsc").read_text()
    header = []
    for ln in template.splitlines():
        key = ln.split()[0]
        value = {"WIDTH": cols, "FILE_LENGTH": rows, "XMAX": cols - 1, "YMAX": rows - 1, "X_FIRST": repr(transform[0]),
                 "Y_FIRST": repr(transform[3]), "X_STEP": repr(step_deg), "Y_STEP": repr(-step_deg),
                 "WAVELENGTH": repr(WAVELENGTH_M)}.get(key)
        header.append(ln if value is None else f"{key} {value}")
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, arr in (("phs", phase), ("cor", corr), ("inc", inc)):
        path = folder / f"{stem}.{suffix}"
        arr.astype(f"{byte_order}f4").tofile(path)
        (folder / f"{stem}.{suffix}.rsc").write_text("\n".join(header) + "\n")
    return Truth(lon, lat, los, inc, heading_deg, transform, "EPSG:4326")
