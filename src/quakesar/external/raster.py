"""Geocoded rasters of external products: GeoTIFF (rasterio) and raw float32 with a header.

A raster is read into a float64 array (NaN where the file's no-data value is) and a
:class:`Georef`: its CRS and the affine geotransform of GDAL's convention, which maps the
*outer corner* of pixel ``(row, col)`` to ``x = t0 + col t1 + row t2``, ``y = t3 + col t4 + row t5``.
quakesar puts pixel centres at integer coordinates (:mod:`quakesar.tiepoints`), so the centre of
pixel ``(r, c)`` is the transform at ``(c + 0.5, r + 0.5)``.

Files inside a zip archive (HyP3 products as downloaded) are addressed ``<archive>.zip!<member>``
and read through GDAL's ``/vsizip/`` without unpacking.

Raw binaries (``.unw``, ``.phs``, ``.cor``, ``.inc`` ... of ROI_PAC/GAMMA/GMTSAR-style pipelines):
single-band float32, or ROI_PAC's two-band line-interleaved ``RMG`` layout (amplitude line, then
phase line) with ``interleave: rmg``. Byte order and pixel registration are not in the headers and
are options with documented defaults (:data:`RAW_DEFAULTS`):

* ``.rsc`` (ROI_PAC): little-endian; ``X_FIRST``/``Y_FIRST`` the outer corner of the first pixel
  (how MintPy reads ROI_PAC headers), ``X_STEP``/``Y_STEP`` the pixel size;
* ``.par`` (GAMMA ``dem_par`` of a geocoded product, ``EQA`` projection): big-endian (GAMMA's
  binary format); ``corner_lat``/``corner_lon`` the *centre* of the first pixel (GAMMA's
  pixel-is-point geocoding grid), ``post_lat``/``post_lon`` the spacing.

Set ``byte_order`` / ``pixel_registration`` in the product's config entry when a processor differs.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quakesar.external.metadata import MetadataError, parse_gamma_par, parse_rsc

RAW_DEFAULTS = {".rsc": {"byte_order": "little", "pixel_registration": "corner"},
                ".par": {"byte_order": "big", "pixel_registration": "centre"}}
WGS84 = "EPSG:4326"


class RasterError(ValueError):
    """A raster cannot be read or does not fit the product (message names the file)."""


@dataclass(frozen=True)
class Georef:
    """CRS (any pyproj-readable string) and GDAL geotransform of a raster of ``shape`` (rows, cols)."""

    crs: str
    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]

    def xy(self, rows: Any, cols: Any) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of (fractional) pixel positions, pixel centres at integers."""
        r = np.asarray(rows, dtype=np.float64) + 0.5
        c = np.asarray(cols, dtype=np.float64) + 0.5
        t0, t1, t2, t3, t4, t5 = self.transform
        return t0 + c * t1 + r * t2, t3 + c * t4 + r * t5

    def rowcol(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fractional pixel positions (centres at integers) of map coordinates; inverse of :meth:`xy`."""
        t0, t1, t2, t3, t4, t5 = self.transform
        det = t1 * t5 - t2 * t4
        dx, dy = np.asarray(x, dtype=np.float64) - t0, np.asarray(y, dtype=np.float64) - t3
        col = (t5 * dx - t2 * dy) / det - 0.5
        row = (-t4 * dx + t1 * dy) / det - 0.5
        return row, col

    def same_grid(self, other: "Georef", tol: float = 1e-6) -> bool:
        if self.shape != other.shape:
            return False
        scale = max(abs(self.transform[1]), abs(self.transform[5]), 1e-12)
        close = all(abs(a - b) <= tol * max(scale, abs(a), 1.0) for a, b in zip(self.transform, other.transform))
        if not close:
            return False
        from pyproj import CRS

        return CRS.from_user_input(self.crs) == CRS.from_user_input(other.crs)

    @property
    def is_geographic(self) -> bool:
        from pyproj import CRS

        return bool(CRS.from_user_input(self.crs).is_geographic)

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 longitude/latitude of map coordinates."""
        if self._is_wgs84():
            return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        from pyproj import Transformer

        tr = Transformer.from_crs(self.crs, WGS84, always_xy=True)
        lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return np.asarray(lon), np.asarray(lat)

    def from_lonlat(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates of WGS84 longitude/latitude."""
        if self._is_wgs84():
            return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        from pyproj import Transformer

        tr = Transformer.from_crs(WGS84, self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x), np.asarray(y)

    def lonlat(self, rows: Any, cols: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 longitude/latitude of (fractional) pixel positions."""
        return self.to_lonlat(*self.xy(rows, cols))

    def _is_wgs84(self) -> bool:
        from pyproj import CRS

        return CRS.from_user_input(self.crs) == CRS.from_user_input(WGS84)


def split_member(path: str) -> tuple[str, str | None]:
    """``(archive, member)`` of ``archive.zip!member``, or ``(path, None)``."""
    if "!" in path:
        archive, member = path.split("!", 1)
        return archive, member
    return path, None


def read_text(path: str) -> str:
    """A text file, possibly inside a zip (``archive.zip!member``)."""
    archive, member = split_member(path)
    try:
        if member is None:
            return Path(archive).read_text(encoding="utf-8", errors="replace")
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member).decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise RasterError(f"{path}: cannot read ({exc})") from None


def exists(path: str) -> bool:
    archive, member = split_member(path)
    if member is None:
        return Path(archive).is_file()
    try:
        with zipfile.ZipFile(archive) as zf:
            return member in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_geotiff(path: str, band: int | None = None) -> tuple[np.ndarray, Georef]:
    """One band of a GeoTIFF (or any GDAL raster) as float64 with NaN for no-data, and its Georef.

    ``band`` None means the raster must have exactly one band: multi-band files (ISCE2's
    ``filt_topophase.unw.geo`` holds amplitude in band 1 and the unwrapped phase in band 2) need
    the band named, so that an amplitude is never read as a phase.
    """
    import rasterio

    archive, member = split_member(path)
    gdal_path = f"/vsizip/{Path(archive).resolve()}/{member}" if member else archive
    try:
        with rasterio.open(gdal_path) as ds:
            if ds.crs is None:
                raise RasterError(f"{path}: the raster has no coordinate reference system; not a geocoded product")
            if band is None:
                if ds.count != 1:
                    raise RasterError(f"{path}: {ds.count} bands; say which one holds the data "
                                      "(bands: {<role>: <band number>} in the product's config entry)")
                band = 1
            if not 1 <= band <= ds.count:
                raise RasterError(f"{path}: band {band} requested, the raster has {ds.count}")
            data = ds.read(band, masked=True)
            arr = np.asarray(data.filled(np.nan) if np.ma.isMaskedArray(data) else data, dtype=np.float64)
            if ds.nodata is not None and not np.isnan(ds.nodata):
                arr[arr == ds.nodata] = np.nan
            t = ds.transform
            return arr, Georef(ds.crs.to_wkt(), (t.c, t.a, t.b, t.f, t.d, t.e), (ds.height, ds.width))
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: cannot open as a raster ({exc})") from None


def raster_dtype(path: str) -> str:
    """The storage data type of band 1 of a GDAL raster (``"uint8"``, ``"float32"``, ...)."""
    import rasterio

    archive, member = split_member(path)
    gdal_path = f"/vsizip/{Path(archive).resolve()}/{member}" if member else archive
    with rasterio.open(gdal_path) as ds:
        return str(ds.dtypes[0])


def header_of(path: str, header: str | None = None) -> tuple[str, dict[str, str], str]:
    """(header path, parsed fields, kind '.rsc'|'.par') of a raw raster: ``header`` or ``<file>.rsc``/``.par``."""
    candidates = [header] if header else [f"{path}.rsc", f"{path}.par"]
    for cand in candidates:
        if cand and exists(cand):
            kind = ".par" if cand.endswith(".par") else ".rsc"
            text = read_text(cand)
            return cand, (parse_gamma_par(text) if kind == ".par" else parse_rsc(text)), kind
    raise RasterError(f"{path}: no header found (looked for {', '.join(c for c in candidates if c)}); "
                      "a raw raster needs a ROI_PAC .rsc or GAMMA .par header")


def georef_from_header(meta: dict[str, str], kind: str, source: str, registration: str | None = None) -> Georef:
    """Georef of a geographic (lat/lon) raw raster from its ``.rsc``/``.par`` header."""
    reg = registration or RAW_DEFAULTS[kind]["pixel_registration"]
    if reg not in ("corner", "centre"):
        raise RasterError(f"{source}: pixel_registration {reg!r}: expected 'corner' or 'centre'")

    def num(key: str) -> float:
        try:
            return float(meta[key])
        except (KeyError, ValueError):
            raise MetadataError(f"{source}: header field {key!r} missing or not a number") from None

    if kind == ".rsc":
        unit = meta.get("X_UNIT", "degrees").lower()
        if not unit.startswith("deg"):
            raise RasterError(f"{source}: X_UNIT {unit!r}: only geographic (degrees) .rsc grids are supported")
        width, length = int(num("WIDTH")), int(num("FILE_LENGTH"))
        x0, y0, dx, dy = num("X_FIRST"), num("Y_FIRST"), num("X_STEP"), num("Y_STEP")
    else:
        proj = meta.get("DEM_projection", "EQA").strip().upper()
        if proj != "EQA":
            raise RasterError(f"{source}: DEM_projection {proj!r}: only GAMMA's EQA (lat/lon) grids are supported")
        width, length = int(num("width")), int(num("nlines"))
        x0, y0, dx, dy = num("corner_lon"), num("corner_lat"), num("post_lon"), num("post_lat")
    if reg == "centre":
        x0, y0 = x0 - dx / 2.0, y0 - dy / 2.0
    return Georef(WGS84, (x0, dx, 0.0, y0, 0.0, dy), (length, width))


def read_raw(path: str, header: str | None = None, byte_order: str | None = None,
             pixel_registration: str | None = None, interleave: str = "band", band: int = 1) -> tuple[np.ndarray, Georef]:
    """A raw float32 raster with a ``.rsc``/``.par`` header (module docstring); NaN where the value is
    NaN (zeros are left as they are: whether 0 is no-data is the product's own rule)."""
    hdr, meta, kind = header_of(path, header)
    geo = georef_from_header(meta, kind, hdr, pixel_registration)
    order = byte_order or RAW_DEFAULTS[kind]["byte_order"]
    if order not in ("little", "big"):
        raise RasterError(f"{path}: byte_order {order!r}: expected 'little' or 'big'")
    dtype = np.dtype("<f4" if order == "little" else ">f4")
    rows, cols = geo.shape
    bands = 2 if interleave == "rmg" else 1
    archive, member = split_member(path)
    try:
        if member is None:
            raw = np.fromfile(archive, dtype=dtype)
        else:
            with zipfile.ZipFile(archive) as zf:
                raw = np.frombuffer(zf.read(member), dtype=dtype)
    except OSError as exc:
        raise RasterError(f"{path}: cannot read ({exc})") from None
    expected = rows * cols * bands
    if raw.size != expected:
        raise RasterError(f"{path}: {raw.size * 4} bytes, but header {hdr} says {rows} x {cols} float32"
                          f"{' x 2 (RMG)' if bands == 2 else ''} = {expected * 4} bytes")
    if bands == 2:
        arr = raw.reshape(rows, 2, cols)[:, band - 1, :]
    else:
        arr = raw.reshape(rows, cols)
    return np.asarray(arr, dtype=np.float64), geo
