"""Apply a trained auto-encoder to a real :class:`~quakesar.timeseries.readers.LosStack`.

The stack is cut into the model's tile size (non-overlapping; the last row/column of tiles flush with
the edge) and its last ``N`` dates (the model's number of dates; ``end`` picks another window). Each
tile is referenced to its own mean, as in training. Pixel spacing should match the training spacing:
a mismatch over 25 % is an error, since the learnt spatial scales of deformation and atmosphere would
be wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from quakesar.timeseries.evaluate import predict_arrays
from quakesar.timeseries.readers import LosStack
from quakesar.timeseries.settings import SeriesSettings
from quakesar.timeseries.train import load_checkpoint, resolve_device


def _starts(n: int, size: int) -> list[int]:
    if n < size:
        return []
    s = list(range(0, n - size + 1, size))
    return s if s[-1] == n - size else [*s, n - size]


def predict_stack(checkpoint: str | Path, stack: LosStack, *, end: int | None = None, device: str = "auto",
                  spacing_tolerance: float = 0.25) -> dict[str, Any]:
    """``{"deformation": [H, W] m (NaN outside tiles), "scores": [[tile row, col, score]], "dates": [...]}``."""
    dev = resolve_device(device)
    net, ckpt = load_checkpoint(checkpoint, dev)
    settings = SeriesSettings.from_config(ckpt["settings"])
    n, size = settings.n_dates, settings.size
    if abs(stack.spacing_m / settings.spacing_m - 1.0) > spacing_tolerance:
        raise ValueError(f"{stack.source}: pixel spacing {stack.spacing_m:.0f} m, the model was trained at "
                         f"{settings.spacing_m:.0f} m; resample the stack first")
    end = stack.maps.shape[0] if end is None else int(end)
    if end - n < 0 or end > stack.maps.shape[0]:
        raise ValueError(f"{stack.source}: {stack.maps.shape[0]} dates; the model needs {n} ending at date index {end}")
    maps = stack.maps[end - n:end]
    maps = maps - maps[0][None]
    h, w = maps.shape[1:]
    rows, cols = _starts(h, size), _starts(w, size)
    if not rows or not cols:
        raise ValueError(f"{stack.source}: grid {h}x{w} is smaller than the model's tile {size}x{size}")
    dem = stack.dem if stack.dem is not None else np.zeros((h, w), np.float32)
    tiles = [(r, c) for r in rows for c in cols]
    series = np.stack([maps[:, r:r + size, c:c + size] for r, c in tiles])
    dems = np.stack([dem[r:r + size, c:c + size] for r, c in tiles])
    valid = np.isfinite(series).all(axis=1).mean(axis=(1, 2))
    pred, score = predict_arrays(net, series, dems, device=dev)
    out = np.full((h, w), np.nan, np.float32)
    for (r, c), p in zip(tiles, pred):
        out[r:r + size, c:c + size] = p
    return {"deformation": out, "dates": [d.isoformat() for d in stack.dates[end - n:end]],
            "scores": [{"row0": r, "col0": c, "score": float(s), "valid_fraction": float(v)}
                       for (r, c), s, v in zip(tiles, score, valid)],
            "max_score": float(score.max())}
