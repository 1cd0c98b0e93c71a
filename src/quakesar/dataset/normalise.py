"""Normalisation statistics from the training split only (no information from val/test leaks into inputs).

Per channel: mean and standard deviation over all pixels of (up to ``max_patches``, a seeded
random subset of) the training patches, accumulated in float64 as sums of x and x^2 (Chan,
Golub & LeVeque 1983 pairwise-safe in float64 for these ranges). Per target: mean, std, min,
max and count over training rows with a value, and the positive fraction of ``deformation``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quakesar.rng import event_rng
from quakesar.h5io import open_h5

TARGETS = ("distance_km", "east_km", "north_km", "magnitude", "deformation")
MAX_PATCHES = 4096


def channel_stats(train: pd.DataFrame, base_dir: Path, channels: list[str], seed: int,
                  max_patches: int = MAX_PATCHES) -> dict[str, Any]:
    """Per-channel mean/std over the pixels of the training patches listed in ``train``."""
    rows = train
    if len(rows) > max_patches:
        pick = np.sort(event_rng(seed, "dataset", "norm_stats").choice(len(rows), max_patches, replace=False))
        rows = rows.iloc[pick]
    c = len(channels)
    s1, s2, n = np.zeros(c), np.zeros(c), 0
    for h5, sub in rows.groupby("h5_path", sort=True):
        idx = np.sort(sub["h5_index"].to_numpy(dtype=np.int64))
        path = base_dir / str(h5)
        with open_h5(path) as f:
            ds = f["patches"]
            if ds.shape[1] != c:
                raise ValueError(f"{path}: patches have {ds.shape[1]} channels, the index expects {c} ({channels})")
            for start in range(0, len(idx), 256):
                x = ds[idx[start:start + 256]].astype(np.float64)
                s1 += x.sum(axis=(0, 2, 3))
                s2 += (x * x).sum(axis=(0, 2, 3))
                n += x.shape[0] * x.shape[2] * x.shape[3]
    mean = s1 / max(n, 1)
    std = np.sqrt(np.maximum(s2 / max(n, 1) - mean ** 2, 0.0))
    std = np.where(std > 0, std, 1.0)
    return {"channels": list(channels), "mean": mean.tolist(), "std": std.tolist(), "patches": int(len(rows)),
            "pixels": int(n)}


def target_stats(train: pd.DataFrame) -> dict[str, Any]:
    """Mean/std/min/max/count of every target over training rows with a value."""
    out: dict[str, Any] = {}
    for name in TARGETS:
        v = pd.to_numeric(train[name], errors="coerce").to_numpy(dtype=float) if name in train else np.zeros(0)
        v = v[np.isfinite(v)]
        out[name] = {"count": int(v.size), "mean": float(v.mean()) if v.size else None,
                     "std": float(v.std()) if v.size else None, "min": float(v.min()) if v.size else None,
                     "max": float(v.max()) if v.size else None}
    dv = out["deformation"]
    dv["positive_fraction"] = dv["mean"]
    return out


def load_norm_stats(norm_stats: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """Accept a ``norm_stats.json`` path, its parsed dict, or None (no normalisation)."""
    if norm_stats is None or isinstance(norm_stats, dict):
        return norm_stats
    import json

    path = Path(norm_stats)
    try:
        stats = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read normalisation statistics ({exc})") from exc
    if "channels" not in stats or "mean" not in stats["channels"] or "std" not in stats["channels"]:
        raise ValueError(f"{path}: expected keys channels.mean and channels.std")
    return stats
