"""Percentile bootstrap confidence intervals over events (Efron & Tibshirani 1993, ch. 13).

Resampling units are **events**, not patches: patches of one earthquake are strongly correlated,
so a patch bootstrap would give intervals that are far too narrow. Random draws come from
:func:`quakesar.rng.event_rng` with a purpose string naming the statistic.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from quakesar.rng import event_rng

BOOTSTRAP_KEY = "bootstrap-over-events"


def bootstrap_ci(values: np.ndarray, statistic: Callable[[np.ndarray], float], n_resamples: int, seed: int, purpose: str, level: float = 0.95) -> dict[str, float]:
    """Point estimate and percentile CI of ``statistic`` over resamples (with replacement) of ``values``.

    ``values`` holds one entry per event (first axis). Returns ``{"value", "ci_low", "ci_high",
    "n", "n_resamples", "level"}``; CI bounds are NaN for fewer than two events.
    """
    v = np.asarray(values, dtype=float)
    n = v.shape[0]
    out = {"value": float(statistic(v)) if n else float("nan"), "n": int(n), "n_resamples": int(n_resamples), "level": level}
    if n < 2:
        out.update(ci_low=float("nan"), ci_high=float("nan"))
        return out
    rng = event_rng(seed, BOOTSTRAP_KEY, purpose)
    idx = rng.integers(0, n, size=(int(n_resamples), n))
    stats = np.array([statistic(v[i]) for i in idx], dtype=float)
    alpha = (1.0 - level) / 2.0
    out.update(ci_low=float(np.nanquantile(stats, alpha)), ci_high=float(np.nanquantile(stats, 1.0 - alpha)))
    return out


def mean_abs(v: np.ndarray) -> float:
    """Mean absolute value (MAE of an error vector)."""
    return float(np.mean(np.abs(v)))


def median(v: np.ndarray) -> float:
    return float(np.median(v))


def p90(v: np.ndarray) -> float:
    """90th percentile (linear interpolation)."""
    return float(np.quantile(v, 0.9))
