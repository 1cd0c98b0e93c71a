"""Real time series on disk -> :class:`LosStack`, the same arrays the simulator makes.

Two layouts (geocoded, north-up; LOS displacement positive towards the satellite as in
:mod:`quakesar.convention`, which is also MintPy's convention):

* **MintPy** ``timeseries.h5`` (Yunjun et al. 2019): dataset ``timeseries`` [N, LENGTH, WIDTH] float32 in
  metres (attribute ``UNIT``, default ``m``; ``mm``/``cm`` are converted), dataset ``date`` [N] of
  ``YYYYMMDD`` byte strings, geocoding attributes ``X_FIRST``, ``Y_FIRST`` (upper-left corner of the
  upper-left pixel), ``X_STEP``, ``Y_STEP`` (degrees, or metres for a projected ``EPSG``); optional
  ``geometryGeo.h5`` with dataset ``height`` for the DEM channel.
* **GeoTIFF stack**: either one single-band GeoTIFF per date (the date ``YYYYMMDD`` in the file name) or
  one multi-band GeoTIFF whose band descriptions are the dates; all on one grid (same shape, transform
  and CRS, checked); nodata -> NaN; values times ``scale_to_m``; optional DEM GeoTIFF on the same grid.

Every map is re-referenced to the first date (``maps - maps[0]``), the simulator's MintPy layout; each
date's constant is removed later anyway (:func:`quakesar.timeseries.tensors.referenced`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from quakesar.geodesy import EARTH_RADIUS_M
from quakesar.h5io import open_h5

_UNITS = {"m": 1.0, "meter": 1.0, "metre": 1.0, "cm": 0.01, "mm": 0.001}
_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


@dataclass
class LosStack:
    """Geocoded LOS maps of N dates (m, relative to the first date) with their grid."""

    maps: np.ndarray                 # [N, H, W] float32, NaN = no data
    dates: list[dt.date]
    dem: np.ndarray | None           # [H, W] float32 m, or None
    x0: float                        # upper-left corner of pixel (0, 0): lon (deg) or easting (m)
    y0: float
    dx: float
    dy: float                        # negative for north-up
    geographic: bool
    source: str

    @property
    def days(self) -> np.ndarray:
        """Days of each date after the first."""
        return np.array([(d - self.dates[0]).days for d in self.dates], np.float32)

    @property
    def spacing_m(self) -> float:
        """North-south pixel size in metres (on the mean Earth sphere for geographic grids)."""
        return abs(self.dy) * (np.pi / 180.0 * EARTH_RADIUS_M if self.geographic else 1.0)


def _parse_date(text: str, where: str) -> dt.date:
    m = _DATE.search(text)
    if not m:
        raise ValueError(f"{where}: expected a date YYYYMMDD, got {text!r}")
    try:
        return dt.datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"{where}: {m.group(1)!r} is not a valid date YYYYMMDD") from None


def _finish(maps: np.ndarray, dates: list[dt.date], source: str) -> tuple[np.ndarray, list[dt.date]]:
    if maps.ndim != 3 or maps.shape[0] < 2:
        raise ValueError(f"{source}: expected at least 2 dates of 2-D maps, got shape {maps.shape}")
    order = np.argsort(np.array([d.toordinal() for d in dates]), kind="stable")
    if len(set(dates)) != len(dates):
        raise ValueError(f"{source}: duplicate dates {sorted(d.isoformat() for d in dates)}")
    maps = maps[order].astype(np.float32)
    return maps - maps[0][None], [dates[i] for i in order]


def _attr(attrs: object, key: str, path: Path) -> str:
    try:
        v = attrs[key]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"{path}: attribute {key!r} missing (a geocoded MintPy file has X_FIRST, Y_FIRST, X_STEP, Y_STEP)") from None
    return v.decode() if isinstance(v, bytes) else str(v)


def read_mintpy(timeseries_h5: str | Path, geometry_h5: str | Path | None = None) -> LosStack:
    """A MintPy geocoded ``timeseries.h5`` (and optional ``geometryGeo.h5`` for ``height``)."""
    path = Path(timeseries_h5)
    with open_h5(path) as f:
        for name in ("timeseries", "date"):
            if name not in f:
                raise ValueError(f"{path}: not a MintPy time series (no dataset '{name}')")
        maps = f["timeseries"][()].astype(np.float32)
        dates = [_parse_date(d.decode() if isinstance(d, bytes) else str(d), f"{path}:date") for d in f["date"][()]]
        if len(dates) != maps.shape[0]:
            raise ValueError(f"{path}: {len(dates)} dates for {maps.shape[0]} maps in 'timeseries'")
        unit = f.attrs.get("UNIT", "m")
        unit = (unit.decode() if isinstance(unit, bytes) else str(unit)).lower()
        if unit not in _UNITS:
            raise ValueError(f"{path}: attribute UNIT {unit!r}; expected one of {sorted(_UNITS)}")
        x0, y0 = float(_attr(f.attrs, "X_FIRST", path)), float(_attr(f.attrs, "Y_FIRST", path))
        dx, dy = float(_attr(f.attrs, "X_STEP", path)), float(_attr(f.attrs, "Y_STEP", path))
        epsg = f.attrs.get("EPSG", "4326")
        geographic = str(epsg.decode() if isinstance(epsg, bytes) else epsg) in ("4326", "")
    maps, dates = _finish(maps * _UNITS[unit], dates, str(path))
    dem = None
    if geometry_h5 is not None:
        gpath = Path(geometry_h5)
        with open_h5(gpath) as g:
            if "height" not in g:
                raise ValueError(f"{gpath}: no dataset 'height' (MintPy geometry file)")
            dem = g["height"][()].astype(np.float32)
        if dem.shape != maps.shape[1:]:
            raise ValueError(f"{gpath}: 'height' has shape {dem.shape}, the time series {maps.shape[1:]}")
    return LosStack(maps, dates, dem, x0, y0, dx, dy, geographic, str(path))


def _read_tif(path: Path) -> tuple[np.ndarray, object, object, list[str | None]]:
    import rasterio

    try:
        with rasterio.open(path) as src:
            data = src.read().astype(np.float32)
            if src.nodata is not None and np.isfinite(src.nodata):
                data[data == src.nodata] = np.nan
            if src.transform.b != 0 or src.transform.d != 0:
                raise ValueError(f"{path}: rotated rasters are not supported")
            return data, src.transform, src.crs, list(src.descriptions)
    except rasterio.errors.RasterioIOError as exc:
        raise ValueError(f"{path}: cannot read the GeoTIFF ({exc})") from None


def read_geotiff_stack(paths: str | Path | Sequence[str | Path], *, dem: str | Path | None = None,
                       scale_to_m: float = 1.0, dates: Sequence[str] | None = None) -> LosStack:
    """A stack of geocoded LOS GeoTIFFs (module docstring); ``dates`` overrides names/descriptions."""
    items = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not items:
        raise ValueError("GeoTIFF stack: no files given")
    arrays, labels = [], []
    transform = crs = shape = None
    for p in items:
        data, t, c, desc = _read_tif(p)
        if transform is None:
            transform, crs, shape = t, c, data.shape[1:]
        elif t != transform or c != crs or data.shape[1:] != shape:
            raise ValueError(f"{p}: grid differs from {items[0]} (shape, transform or CRS); resample to one grid first")
        where = [f"{p}: band {i + 1} description" for i in range(data.shape[0])]
        if len(items) == 1:
            arrays.extend(data)
            labels.extend(d or "" for d in desc)
        else:
            if data.shape[0] != 1:
                raise ValueError(f"{p}: expected one band per file in a multi-file stack, got {data.shape[0]}")
            arrays.append(data[0])
            labels.append(p.name)
    if dates is not None:
        if len(dates) != len(arrays):
            raise ValueError(f"GeoTIFF stack {items[0]}: {len(dates)} dates for {len(arrays)} maps")
        parsed = [_parse_date(d, "dates") for d in dates]
    elif len(items) == 1:
        parsed = [_parse_date(lab, w) for lab, w in zip(labels, where)]
    else:
        parsed = [_parse_date(lab, f"{p}: file name") for lab, p in zip(labels, items)]
    maps, parsed = _finish(np.stack(arrays) * float(scale_to_m), parsed, str(items[0]))
    dem_arr = None
    if dem is not None:
        d, t, c, _ = _read_tif(Path(dem))
        if d.shape[1:] != maps.shape[1:] or t != transform or c != crs:
            raise ValueError(f"{dem}: the DEM must be on the stack's grid ({maps.shape[1:]}, {transform}, {crs})")
        dem_arr = d[0]
    assert transform is not None
    geographic = bool(crs is not None and crs.is_geographic)
    return LosStack(maps, parsed, dem_arr, transform.c, transform.f, transform.a, transform.e, geographic, str(items[0]))
