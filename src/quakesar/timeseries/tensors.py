"""The one conversion of a stack of LOS maps (synthetic or real) to the auto-encoder's input and target.

* **Reference**: each map has its spatial mean removed (NaN-aware; NaN pixels then become 0). A time
  series is only known up to a constant per date (MintPy references every date to a reference pixel,
  LiCSBAS to a reference area); removing the tile mean makes synthetic and real tiles alike and makes
  the target well defined: the cumulative deformation *minus its tile mean*.
* **Scale**: LOS in units of ``INPUT_SCALE_M`` (1 cm); the DEM channel is ``(h - mean h) / DEM_SCALE_M``.
"""

from __future__ import annotations

import numpy as np

INPUT_SCALE_M = 0.01
DEM_SCALE_M = 1000.0


def referenced(maps: np.ndarray) -> np.ndarray:
    """Maps ``[..., H, W]`` with the spatial (nan)mean of each map removed; NaN -> 0."""
    maps = np.asarray(maps, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(maps, axis=(-2, -1), keepdims=True)
    out = maps - np.nan_to_num(mean)
    return np.nan_to_num(out, nan=0.0)


def model_input(series: np.ndarray, dem: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x [B, 1, N, H, W], dem [B, 1, H, W])`` float32 from series ``[B, N, H, W]`` (m) and DEM ``[B, H, W]`` (m)."""
    x = referenced(series) / INPUT_SCALE_M
    d = np.nan_to_num(np.asarray(dem, np.float32))
    d = (d - d.mean(axis=(-2, -1), keepdims=True)) / DEM_SCALE_M
    return x[:, None].astype(np.float32), d[:, None].astype(np.float32)


def model_target(cumulative: np.ndarray) -> np.ndarray:
    """``[B, H, W]`` target: the referenced cumulative deformation in units of ``INPUT_SCALE_M``."""
    return (referenced(cumulative) / INPUT_SCALE_M).astype(np.float32)
