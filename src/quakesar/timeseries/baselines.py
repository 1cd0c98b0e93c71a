"""Classical estimators of a tile's cumulative deformation, measured against the auto-encoder.

Both use the true event window (an oracle advantage the auto-encoder does not have): ``pre`` are the
acquisitions before any deformation (``s_k = 0``), ``post`` those after all of it (``s_k = 1``); for a
negative, the hypothetical step date stored in its truth.

* **Best single pair**: of the interferograms ``ts_j - ts_i`` (i in pre, j in post) that span the whole
  event, the one closest to the truth (RMSE): the best a one-pair analysis could pick.
* **Plain stack**: the mean of all those pairs, ``mean(ts_post) - mean(ts_pre)`` (stacking, e.g.
  Sandwell & Price 1998; for independent per-date noise it divides its variance by ~N/4).
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
