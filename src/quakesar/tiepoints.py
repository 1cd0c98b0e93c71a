"""Geolocation on a tie-point grid: how every quakesar raster stores latitude, longitude and incidence.

A full-resolution Sentinel-1 subswath has ~3e8 pixels; storing per-pixel latitude and
longitude would cost 2.7 GB each, so rasters carry the geolocation on a coarse grid of
tie points (as the SAFE annotation's ``geolocationGrid`` and SNAP's tie-point grids do) and
interpolate bilinearly in (row, col). A grid whose nodes are every pixel is just the
per-pixel case.

HDF5 layout (written and read here, nowhere else): for a quantity ``name`` in a group
``g``, dataset ``g[name]`` has shape ``[len(tie_rows), len(tie_cols)]`` and attributes
``tie_rows`` / ``tie_cols`` (float64 pixel coordinates of the nodes, strictly increasing,
pixel centres at integer coordinates) and ``interpolation = "bilinear in (row, col)"``.
Longitudes are unwrapped across the antimeridian before interpolation and wrapped back.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np
from numpy.typing import ArrayLike

INTERPOLATION = "bilinear in (row, col)"


@dataclass(frozen=True)
class TiePointGrid:
    """Values of one quantity at tie points ``(tie_rows[i], tie_cols[j])`` of a raster."""

    tie_rows: np.ndarray
    tie_cols: np.ndarray
    values: np.ndarray
    is_longitude: bool = False

    def __post_init__(self) -> None:
        rows, cols, vals = (np.asarray(a, dtype=np.float64) for a in (self.tie_rows, self.tie_cols, self.values))
        if vals.shape != (rows.size, cols.size):
            raise ValueError(f"tie-point values have shape {vals.shape}, expected {(rows.size, cols.size)}")
        if rows.size < 2 or cols.size < 2 or np.any(np.diff(rows) <= 0) or np.any(np.diff(cols) <= 0):
            raise ValueError("tie-point rows and cols need at least two strictly increasing nodes each")
        if self.is_longitude:
            vals = np.degrees(np.unwrap(np.unwrap(np.radians(vals), axis=1), axis=0))
        object.__setattr__(self, "tie_rows", rows)
        object.__setattr__(self, "tie_cols", cols)
        object.__setattr__(self, "values", vals)

    def at(self, rows: ArrayLike, cols: ArrayLike) -> np.ndarray:
        """Bilinear interpolation at (possibly fractional) pixel coordinates; extrapolates linearly at edges."""
        out = self._at_unwrapped(rows, cols)
        if self.is_longitude:
            out = (out + 180.0) % 360.0 - 180.0
        return out

    def _at_unwrapped(self, rows: ArrayLike, cols: ArrayLike) -> np.ndarray:
        r = np.asarray(rows, dtype=np.float64)
        c = np.asarray(cols, dtype=np.float64)
        i = np.clip(np.searchsorted(self.tie_rows, r, side="right") - 1, 0, self.tie_rows.size - 2)
        j = np.clip(np.searchsorted(self.tie_cols, c, side="right") - 1, 0, self.tie_cols.size - 2)
        tr = (r - self.tie_rows[i]) / (self.tie_rows[i + 1] - self.tie_rows[i])
        tc = (c - self.tie_cols[j]) / (self.tie_cols[j + 1] - self.tie_cols[j])
        v = self.values
        return (v[i, j] * (1 - tr) * (1 - tc) + v[i + 1, j] * tr * (1 - tc)
                + v[i, j + 1] * (1 - tr) * tc + v[i + 1, j + 1] * tr * tc)

    def raster(self, row_slice: slice, col_slice: slice, dtype: type = np.float64) -> np.ndarray:
        """Interpolated values on the full pixel grid of a block ``[row_slice, col_slice]``.

        Bilinear interpolation is separable: the grid is first evaluated at the block's rows on the
        tie columns, then linearly between tie columns (same extrapolation rule as :meth:`at`), so a
        block costs a few passes over its pixels, not ten.
        """
        rows = np.arange(row_slice.start, row_slice.stop, dtype=np.float64)
        cols = np.arange(col_slice.start, col_slice.stop, dtype=np.float64)
        at_ties = self._at_unwrapped(rows[:, None], self.tie_cols[None, :])  # [rows, n_tie_cols]
        tc = self.tie_cols
        j = np.clip(np.searchsorted(tc, cols, side="right") - 1, 0, tc.size - 2)
        t = ((cols - tc[j]) / (tc[j + 1] - tc[j])).astype(dtype)
        out = at_ties[:, j].astype(dtype)
        right = at_ties[:, j + 1].astype(dtype)
        right -= out
        right *= t
        out += right
        if self.is_longitude:
            out = (out + 180.0) % 360.0 - 180.0
        return out

    def write(self, group: h5py.Group, name: str, **attrs: object) -> h5py.Dataset:
        """Store as ``group[name]`` with the tie-point attributes."""
        vals = self.values
        if self.is_longitude:
            vals = (vals + 180.0) % 360.0 - 180.0
        ds = group.create_dataset(name, data=vals.astype(np.float64))
        ds.attrs["tie_rows"] = self.tie_rows
        ds.attrs["tie_cols"] = self.tie_cols
        ds.attrs["interpolation"] = INTERPOLATION
        for key, value in attrs.items():
            ds.attrs[key] = value
        return ds

    @classmethod
    def read(cls, group: h5py.Group, name: str) -> "TiePointGrid":
        """Read ``group[name]``; a dataset without tie-point attributes is taken as per-pixel."""
        ds = group[name]
        vals = ds[()]
        rows = ds.attrs.get("tie_rows", np.arange(vals.shape[0], dtype=np.float64))
        cols = ds.attrs.get("tie_cols", np.arange(vals.shape[1], dtype=np.float64))
        return cls(np.asarray(rows), np.asarray(cols), vals, is_longitude=name.endswith("longitude"))

    def resampled(self, row_scale: float, col_scale: float, row_offset: float = 0.0, col_offset: float = 0.0) -> "TiePointGrid":
        """The same grid in the pixel coordinates of a raster derived by ``new = (old - offset) / scale``.

        Multilooking by L_r x L_a with looks starting at pixel 0 maps old pixel centres to
        new ones by ``new = (old - (L - 1) / 2) / L``: pass ``scale=L, offset=(L-1)/2``.
        """
        vals = self.values
        if self.is_longitude:
            vals = (vals + 180.0) % 360.0 - 180.0
        return TiePointGrid((self.tie_rows - row_offset) / row_scale, (self.tie_cols - col_offset) / col_scale,
                            vals, self.is_longitude)
