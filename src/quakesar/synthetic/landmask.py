"""Land/water mask from the ``global-land-mask`` package data, read for a latitude band only.

``global-land-mask`` (MIT; GLOBE 30 arc-second land mask, NOAA) ships its 21,600 x 43,200 boolean
grid as a 2.4 MB compressed ``.npz`` that its ``globe`` module inflates entirely (0.93 GB) on
import. This module streams the same ``mask.npy`` member and keeps only the rows of the band a
frame needs (a few tens of MB, cached per process), then applies the package's own nearest-cell rule
(``index = int((lat - lat[0]) / dlat)``, clipped to the grid), so ``is_land`` gives the package's
answers without its memory cost.

For many frames all over the globe (the training-data tier simulates thousands of events), re-reading
a band per frame costs about a second each; :func:`preload` instead reads the whole grid once and keeps
it bit-packed (``np.packbits``, 117 MB), after which every lookup is a cheap bit extraction.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

_CHUNK_ROWS = 256


def _data_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or spec.origin is None:
        raise ImportError("the global-land-mask package is required for the synthetic land mask")
    return Path(spec.origin).parent / "globe_combined_mask_compressed.npz"


def _index(values: np.ndarray, axis: np.ndarray) -> np.ndarray:
    v = np.clip(values, axis.min(), axis.max())
    return ((v - axis[0]) / (axis[1] - axis[0])).astype(np.int64)


_CACHE: dict[str, tuple[int, np.ndarray] | tuple[np.ndarray, np.ndarray]] = {}
_MARGIN_DEG = 2.0    # read a band this much wider than asked, so that nearby frames reuse it


def _axes() -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of the mask's rows and columns (cached)."""
    if "axes" not in _CACHE:
        with zipfile.ZipFile(_data_file()) as zf:
            with zf.open("lat.npy") as f:
                lat_axis = np.lib.format.read_array(f)
            with zf.open("lon.npy") as f:
                lon_axis = np.lib.format.read_array(f)
        _CACHE["axes"] = (lat_axis, lon_axis)
    return _CACHE["axes"]  # type: ignore[return-value]


def _band(r0: int, r1: int) -> tuple[int, np.ndarray]:
    """(first row, rows) of a cached band containing rows ``r0 .. r1 - 1`` of the mask."""
    cached = _CACHE.get("band")
    if cached is not None and cached[0] <= r0 and r1 <= cached[0] + cached[1].shape[0]:  # type: ignore[operator,union-attr]
        return cached  # type: ignore[return-value]
    lat_axis, _ = _axes()
    margin = int(round(_MARGIN_DEG / abs(lat_axis[1] - lat_axis[0])))
    r0, r1 = max(0, r0 - margin), min(lat_axis.size, r1 + margin)
    with zipfile.ZipFile(_data_file()) as zf, zf.open("mask.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if fortran or dtype != np.bool_ or len(shape) != 2:
            raise ValueError(f"{_data_file()}: unexpected mask layout {shape}, {dtype}")
        ncols = shape[1]
        skip = r0 * ncols
        while skip > 0:
            skip -= len(f.read(min(skip, _CHUNK_ROWS * ncols)))
        band = np.frombuffer(f.read((r1 - r0) * ncols), dtype=np.bool_).reshape(r1 - r0, ncols)
    _CACHE["band"] = (r0, band)
    return r0, band


def preload() -> None:
    """Read the whole mask once and keep it bit-packed in this process (see module docstring)."""
    if "packed" in _CACHE:
        return
    with zipfile.ZipFile(_data_file()) as zf, zf.open("mask.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        if fortran or dtype != np.bool_ or len(shape) != 2:
            raise ValueError(f"{_data_file()}: unexpected mask layout {shape}, {dtype}")
        packed = np.empty((shape[0], -(-shape[1] // 8)), np.uint8)
        for r0 in range(0, shape[0], _CHUNK_ROWS):
            n = min(_CHUNK_ROWS, shape[0] - r0)
            rows = np.frombuffer(f.read(n * shape[1]), dtype=np.bool_).reshape(n, shape[1])
            packed[r0:r0 + n] = np.packbits(rows, axis=1)
    _CACHE["packed"] = (0, packed)


def is_land(lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """True where (lat, lon) is land (lakes count as land), as ``global_land_mask.globe.is_land``."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if np.any(np.abs(lat) > 90.0):
        raise ValueError("latitude must be within [-90, 90]")
    lat_axis, lon_axis = _axes()
    rows = _index(lat, lat_axis)
    cols = _index(lon, lon_axis)
    if "packed" in _CACHE:
        packed = _CACHE["packed"][1]
        bits = (packed[rows, cols >> 3] >> (7 - (cols & 7)).astype(np.uint8)) & 1  # type: ignore[index]
        return bits == 0
    b0, band = _band(int(rows.min()), int(rows.max()) + 1)
    return ~band[rows - b0, cols]
