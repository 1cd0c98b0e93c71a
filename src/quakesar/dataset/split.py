"""Leak-free train/val/test splits: events are grouped so that no scene, pair or aftershock sequence straddles splits.

Grouping (union-find, Tarjan 1975) over the events of the index joins two events when

* they share a ``scene_id`` (the same pre/post pair, e.g. a mainshock and an aftershock
  imaged by the same interferogram), or
* an interferogram footprint bounding box of one overlaps one of the other **and** their
  acquisition windows ``[reference_time, secondary_time]`` overlap (an aftershock sequence
  seen by different but overlapping pairs);
* for ``holdout: spatial`` overlapping footprints alone join events (the same ground must not
  be in train and test at any time).

Assignment (fractions by patch count):

* ``event`` (default): groups are stratified by magnitude (``magnitude_bins`` quantile bins of
  the group's largest magnitude); inside a bin, groups in a seeded random order go to the
  split furthest below its target share.
* ``temporal``: groups ordered by their first event time; the earliest go to train, then val,
  then test (forecasting-style hold-out).
* ``spatial``: groups ordered by their centroid's projection on a seeded random horizontal
  direction; contiguous runs go to train, val and test (a region never seen in training).

After assignment every split with a positive fraction gets at least one group when there are
enough groups. Randomness: :func:`quakesar.rng.event_rng` with purpose ``"split"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quakesar.rng import event_rng

SPLITS = ("train", "val", "test")


class _UnionFind:
    def __init__(self, items: list[str]) -> None:
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def footprints(index: pd.DataFrame) -> pd.DataFrame:
    """One row per (event, source interferogram): scene id, footprint bbox, acquisition window, time, magnitude."""
    cols = ["event_id", "scene_id", "source_file", "footprint_south", "footprint_north", "footprint_west",
            "footprint_east", "reference_time", "secondary_time"]
    fp = index[cols].drop_duplicates(subset=["event_id", "source_file"]).reset_index(drop=True)
    fp["t0"] = pd.to_datetime(fp["reference_time"], utc=True)
    fp["t1"] = pd.to_datetime(fp["secondary_time"], utc=True)
    return fp


def group_events(index: pd.DataFrame, holdout: str = "event") -> dict[str, str]:
    """Map every event id of ``index`` to its group id (the smallest event id of its group)."""
    events = sorted(index["event_id"].astype(str).unique())
    uf = _UnionFind(events)
    fp = footprints(index)
    for _, sub in fp[fp["scene_id"].astype(str).str.len() > 0].groupby(fp["scene_id"].astype(str)):
        ids = sorted(sub["event_id"].astype(str).unique())
        for other in ids[1:]:
            uf.union(ids[0], other)
    ev = fp["event_id"].astype(str).to_numpy()
    s, n = fp["footprint_south"].to_numpy(float), fp["footprint_north"].to_numpy(float)
    w, e = fp["footprint_west"].to_numpy(float), fp["footprint_east"].to_numpy(float)
    e = np.where(e < w, e + 360.0, e)  # a footprint across the antimeridian: [west, east + 360]
    t0 = fp["t0"].to_numpy(dtype="datetime64[ns]")
    t1 = fp["t1"].to_numpy(dtype="datetime64[ns]")
    for a in range(len(fp)):  # one row of the pairwise overlap matrix at a time (memory O(n))
        b = np.arange(a + 1, len(fp))
        if not b.size:
            break
        lat_ok = (s[a] <= n[b]) & (s[b] <= n[a])
        lon_ok = np.zeros(b.size, bool)
        for shift in (-360.0, 0.0, 360.0):
            lon_ok |= (w[a] <= e[b] + shift) & (w[b] + shift <= e[a])
        link = lat_ok & lon_ok & (ev[b] != ev[a])
        if holdout != "spatial":
            link &= (t0[a] <= t1[b]) & (t0[b] <= t1[a])
        for other in np.unique(ev[b[link]]):
            uf.union(str(ev[a]), str(other))
    return {e: uf.find(e) for e in events}


def _fractions(cfg: dict[str, Any]) -> dict[str, float]:
    fr = {**{"train": 0.7, "val": 0.15, "test": 0.15}, **(cfg.get("fractions") or {})}
    if set(fr) != set(SPLITS) or any(v < 0 for v in fr.values()) or sum(fr.values()) <= 0:
        raise ValueError(f"dataset.fractions: expected non-negative train/val/test with a positive sum, got {fr}")
    total = sum(fr.values())
    return {k: fr[k] / total for k in SPLITS}


def _greedy(order: list[str], weight: dict[str, int], fr: dict[str, float], out: dict[str, str]) -> None:
    """Give each group in ``order`` to the split furthest below its target share of the weight so far."""
    assigned = {s: 0.0 for s in SPLITS}
    total = 0.0
    for g in order:
        total += weight[g]
        best = max(SPLITS, key=lambda s: (fr[s] * total - assigned[s], fr[s]))
        out[g] = best
        assigned[best] += weight[g]


def _contiguous(order: list[str], weight: dict[str, int], fr: dict[str, float], out: dict[str, str]) -> None:
    """Cut an ordered list of groups into contiguous train, val, test runs by cumulative weight."""
    total = float(sum(weight[g] for g in order)) or 1.0
    bounds = np.cumsum([fr[s] for s in SPLITS])
    acc = 0.0
    for g in order:
        mid = (acc + weight[g] / 2.0) / total
        out[g] = SPLITS[min(int(np.searchsorted(bounds, mid, side="right")), 2)]
        acc += weight[g]


def _ensure_nonempty(out: dict[str, str], weight: dict[str, int], fr: dict[str, float], order: list[str]) -> None:
    """Move the lightest groups of the most populated split into empty splits that should not be empty."""
    for s in SPLITS:
        if fr[s] <= 0 or s in out.values():
            continue
        counts = {t: sum(1 for v in out.values() if v == t) for t in SPLITS}
        donor = max(SPLITS, key=lambda t: (counts[t], fr[t]))
        if counts[donor] <= 1:
            continue
        candidates = [g for g in order if out[g] == donor]
        g = min(candidates, key=lambda x: (weight[x], order.index(x)))
        out[g] = s


def assign_splits(index: pd.DataFrame, groups: dict[str, str], cfg: dict[str, Any], seed: int) -> dict[str, str]:
    """Split of every group id (see module docstring); ``cfg`` is the ``dataset`` config section."""
    holdout = cfg.get("holdout", "event")
    if holdout not in ("event", "spatial", "temporal"):
        raise ValueError(f"dataset.holdout: expected event, spatial or temporal, got {holdout!r}")
    fr = _fractions(cfg)
    df = index.assign(group_id=index["event_id"].astype(str).map(groups))
    per = df.groupby("group_id").agg(n=("patch_id", "size"), mag=("magnitude", "max"), lat=("center_lat", "mean"),
                                     lon=("center_lon", "mean"), t=("event_time", "min"))
    gids = sorted(per.index)
    weight = {g: int(per.loc[g, "n"]) for g in gids}
    rng = event_rng(seed, "dataset", f"split/{holdout}")
    out: dict[str, str] = {}
    if holdout == "event":
        nbins = max(1, int(cfg.get("magnitude_bins", 4)))
        mags = per.loc[gids, "mag"].to_numpy(dtype=float)
        edges = np.unique(np.quantile(mags, np.linspace(0, 1, nbins + 1)[1:-1])) if len(gids) else np.array([])
        bins = np.searchsorted(edges, mags, side="right")
        order: list[str] = []
        for b in sorted(set(bins.tolist())):
            members = [g for g, bb in zip(gids, bins) if bb == b]
            members = [members[k] for k in rng.permutation(len(members))]
            _greedy(members, weight, fr, out)
            order += members
    elif holdout == "temporal":
        order = sorted(gids, key=lambda g: (pd.Timestamp(per.loc[g, "t"]), g))
        _contiguous(order, weight, fr, out)
    else:
        theta = rng.uniform(0.0, np.pi)
        lat0 = float(np.mean(per["lat"])) if len(gids) else 0.0
        proj = {g: np.cos(theta) * per.loc[g, "lon"] * np.cos(np.radians(lat0)) + np.sin(theta) * per.loc[g, "lat"]
                for g in gids}
        order = sorted(gids, key=lambda g: (proj[g], g))
        _contiguous(order, weight, fr, out)
    _ensure_nonempty(out, weight, fr, order)
    return out
