"""Classical estimators of a tile's cumulative deformation, measured against the auto-encoder.

Both use the true event window (an oracle advantage the auto-encoder does not have): ``pre`` are the
acquisitions before any deformation (``s_k = 0``), ``post`` those after all of it (``s_k = 1``); for a
negative, the hypothetical step date stored in its truth.

* **Best single pair**: of the interferograms ``ts_j - ts_i`` (i in pre, j in post) that span the whole
  event, the one closest to the truth (RMSE): the best a one-pair analysis could pick.
* **Plain stack**: the mean of all those pairs, ``mean(ts_post) - mean(ts_pre)`` (stacking, e.g.
  Sandwell & Price 1998; for independent per-date noise it divides its variance by ~N/4).
* **Date-blind stack** (no truth used): the plain stack at the step date that maximises the likelihood-ratio
  statistic ``k (N - k) / N * sum(D_k^2)`` of a step in white per-date noise (D_k: the referenced pre/post
  mean difference at candidate date k; a CUSUM-type change-point test, e.g. Page 1954). It is the
  stack a user would get without knowing the date, the fair classical counterpart of the auto-encoder.
* **Shortest pair** (the detection baseline, no truth used to pick): the pair of the last pre-event and
  the first post-event acquisition, i.e. the interferogram a rapid-response analysis would form.
"""

from __future__ import annotations

import numpy as np

from quakesar.timeseries.tensors import referenced


def event_masks(time_function: np.ndarray, event_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(pre, post)`` boolean ``[M, N]`` masks of the acquisitions before and after the deformation."""
    s = np.asarray(time_function, dtype=np.float64)
    k = np.arange(s.shape[1])[None, :]
    step = k >= np.asarray(event_index, dtype=np.int64)[:, None]
    has = s.max(axis=1, keepdims=True) > 0
    pre = np.where(has, s <= 0, ~step)
    post = np.where(has, s >= 1, step)
    return pre, post


def stack_mean(series: np.ndarray, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``[M, H, W]`` plain stack (mean of the spanning pairs), referenced."""
    out = np.empty((series.shape[0], *series.shape[2:]), np.float32)
    for m in range(series.shape[0]):
        out[m] = series[m, post[m]].mean(axis=0) - series[m, pre[m]].mean(axis=0)
    return referenced(out)


def best_pair(series: np.ndarray, pre: np.ndarray, post: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``[M, H, W]`` the spanning pair with the smallest RMSE against ``truth`` (referenced)."""
    ref_truth = referenced(truth)
    out = np.empty_like(ref_truth)
    for m in range(series.shape[0]):
        i_idx, j_idx = np.flatnonzero(pre[m]), np.flatnonzero(post[m])
        pairs = referenced(series[m, j_idx][:, None] - series[m, i_idx][None, :]).reshape(-1, *series.shape[2:])
        err = ((pairs - ref_truth[m][None]) ** 2).mean(axis=(1, 2))
        out[m] = pairs[int(np.argmin(err))]
    return out


def shortest_pair(series: np.ndarray, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``[M, H, W]`` the pair (last pre-event, first post-event acquisition), referenced."""
    out = np.empty((series.shape[0], *series.shape[2:]), np.float32)
    for m in range(series.shape[0]):
        i, j = np.flatnonzero(pre[m])[-1], np.flatnonzero(post[m])[0]
        out[m] = series[m, j] - series[m, i]
    return referenced(out)


def blind_stack(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``([M, H, W] referenced stack at the estimated step date, [M] that date index)`` (module docstring)."""
    series = np.asarray(series, dtype=np.float64)
    m, n = series.shape[:2]
    c = np.cumsum(series, axis=1)
    k = np.arange(1, n)
    before = c[:, :-1]
    bank = (c[:, -1:] - before) / (n - k)[None, :, None, None] - before / k[None, :, None, None]
    bank = bank - bank.mean(axis=(-2, -1), keepdims=True)
    stat = (k * (n - k) / n)[None, :] * (bank ** 2).sum(axis=(-2, -1))
    best = np.argmax(stat, axis=1)
    return bank[np.arange(m), best].astype(np.float32), best + 1
