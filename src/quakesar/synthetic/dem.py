"""Topography for the synthetic scenes: a fractal DEM by default, or a real GeoTIFF DEM.

* Fractal DEM: a Gaussian field with isotropic 2-D power spectrum ``k**(-3.6)`` (Hurst exponent
  0.8, fractal dimension 2.2, typical of natural relief; e.g. Turcotte 1997, *Fractals and Chaos
  in Geology and Geophysics*), flat beyond 50 km wavelength, scaled to a relief (std) of
  100-700 m around a base height of 0-1500 m, clipped at 0; sea (the land mask) is at 0 m.
* GeoTIFF (``simulate.dem``): a geographic (EPSG:4326) single-band raster sampled bilinearly at
  each ground-grid node's latitude/longitude (grid spacing: the DEM posting or the pixel size, whichever
  is coarser); nodata and points outside the raster get height 0 m and
  the covered fraction is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import map_coordinates

from quakesar.geodesy import EARTH_RADIUS_M
from quakesar.synthetic.spectral import powerlaw_psd, spectral_field

FRACTAL_EXPONENT = 3.6
FRACTAL_CORNER_WAVELENGTH_M = 50_000.0


def fractal_dem(shape: tuple[int, int], spacing_m: float, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, float]]:
    """Synthetic heights (m) on a regular grid and the drawn parameters."""
    relief = 100.0 + 600.0 * rng.random()
    base = 1500.0 * rng.random()
    field = spectral_field(shape, spacing_m, powerlaw_psd(FRACTAL_EXPONENT, FRACTAL_CORNER_WAVELENGTH_M), rng)
    return np.maximum(base + relief * field, 0.0), {"dem_relief_m": relief, "dem_base_m": base}


@dataclass(frozen=True)
class GeoTiffDem:
    """A geographic DEM raster in memory."""

    path: str
    heights: np.ndarray       # float64, NaN where nodata
    lon0: float               # longitude of the outer edge of column 0
    lat0: float               # latitude of the outer edge of row 0
    dlon: float
    dlat: float               # negative for north-up rasters

    @classmethod
    def open(cls, path: str | Path) -> "GeoTiffDem":
        """Read band 1 of a GeoTIFF in EPSG:4326 (error names the file and what was expected)."""
        import rasterio

        path = str(path)
        try:
            with rasterio.open(path) as src:
                if src.crs is None or not src.crs.is_geographic:
                    raise ValueError(f"simulate.dem {path}: expected a geographic (EPSG:4326) raster, got CRS {src.crs}")
                t = src.transform
                if t.b != 0 or t.d != 0:
                    raise ValueError(f"simulate.dem {path}: rotated rasters are not supported")
                data = src.read(1).astype(np.float64)
                if src.nodata is not None:
                    data[data == src.nodata] = np.nan
                return cls(path, data, t.c, t.f, t.a, t.e)
        except rasterio.errors.RasterioIOError as exc:
            raise ValueError(f"simulate.dem {path}: cannot read the DEM GeoTIFF ({exc})") from None

    @property
    def posting_m(self) -> float:
        """North-south pixel size in metres (on the mean Earth sphere)."""
        return abs(self.dlat) * np.pi / 180.0 * EARTH_RADIUS_M

    def sample(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Bilinear heights at (lat, lon); NaN outside the raster or at nodata."""
        lon = np.asarray(lon, dtype=np.float64)
        lon = self.lon0 + ((lon - self.lon0) % 360.0)
        lon = np.where(lon > self.lon0 + 360.0 - 1e-9, lon - 360.0, lon)
        col = (lon - self.lon0) / self.dlon - 0.5
        row = (np.asarray(lat, dtype=np.float64) - self.lat0) / self.dlat - 0.5
        ny, nx = self.heights.shape
        inside = (row >= -0.5) & (row <= ny - 0.5) & (col >= -0.5) & (col <= nx - 0.5)
        vals = map_coordinates(self.heights, [np.clip(row, 0, ny - 1).ravel(), np.clip(col, 0, nx - 1).ravel()],
                               order=1, mode="nearest").reshape(row.shape)
        return np.where(inside, vals, np.nan)
