"""PyTorch access to the patch dataset: lazy HDF5 reads with worker-safe handles.

``PatchDataset(index_csv, split, tasks, norm_stats, augment=False, latlon_planes=False, seed=0)``
yields ``(x, targets, row)``:

* ``x``: float32 tensor ``[C, H, W]`` (``C + 2`` with ``latlon_planes``), each channel
  standardised with the training-split mean/std of ``norm_stats`` (none when ``None``);
* ``targets``: dict of 0-d float32 tensors ``distance_km``, ``east_km``, ``north_km``,
  ``magnitude``, ``deformation``; NaN where unknown (e.g. ``deformation`` without a truth
  group): mask NaN targets in the loss;
* ``row``: the row number of the item in ``index.csv`` (0-based, header excluded).

``tasks`` (names from ``train.tasks``: distance, epicentre, magnitude, detection) keeps only
rows on which every requested target is known; ``None`` or ``[]`` keeps all rows.

HDF5 handles are opened lazily in the process that reads (after a DataLoader worker forks)
and never pickled: a handle opened in the parent is not reused in a child (h5py/HDF5 file
handles are not fork-safe). ``latlon_planes`` appends two constant planes, patch-centre
``lat / 90`` and ``lon / 180`` (in [-1, 1]), as in the reference thesis code (with its patch-level
split they let a model memorise each event's location; our splits group events and scenes).

``augment=True`` applies a random dihedral transform (:mod:`quakesar.dataset.augment`) with
the exactly consistent label transform. The draws of an epoch are made once, when the epoch is
set (:meth:`PatchDataset.set_epoch`), from ``event_rng(seed, split, "augment/epoch{e}")`` over the
dataset's rows: they depend on the seed, the split's rows and the epoch, never on the worker or
the order in which items are read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from quakesar.dataset.augment import CORNER_KEYS, Dihedral, axis_vectors, transform_offset
from quakesar.dataset.normalise import TARGETS, load_norm_stats
from quakesar.rng import event_rng
from quakesar.h5io import open_h5

TASK_TARGETS = {"distance": ("distance_km",), "epicentre": ("east_km", "north_km"), "magnitude": ("magnitude",),
                "detection": ("deformation",)}


def read_index(index_csv: str | Path) -> pd.DataFrame:
    """Read ``index.csv`` with the dtypes the dataset relies on."""
    df = pd.read_csv(index_csv, dtype={"event_id": str, "scene_id": str, "patch_id": str, "split": str,
                                       "group_id": str, "h5_path": str, "magnitude_type": str},
                     keep_default_na=True)
    for col in ("h5_path", "h5_index", "split", *TARGETS):
        if col not in df.columns:
            raise ValueError(f"{index_csv}: column {col!r} missing from the dataset index")
    return df


class PatchDataset(Dataset):
    """Patches of one split of ``index.csv`` (see module docstring)."""

    def __init__(self, index_csv: str | Path, split: str | None, tasks: list[str] | None = None,
                 norm_stats: str | Path | dict[str, Any] | None = None, augment: bool = False,
                 latlon_planes: bool = False, seed: int = 0) -> None:
        self.index_csv = Path(index_csv)
        self.base_dir = self.index_csv.parent
        df = read_index(self.index_csv)
        df["_row"] = np.arange(len(df))
        if split not in (None, "all"):
            if split not in ("train", "val", "test"):
                raise ValueError(f"PatchDataset: split must be train, val, test, all or None, got {split!r}")
            df = df[df["split"] == split]
        for task in tasks or []:
            if task not in TASK_TARGETS:
                raise ValueError(f"PatchDataset: unknown task {task!r}; expected one of {sorted(TASK_TARGETS)}")
            for col in TASK_TARGETS[task]:
                df = df[np.isfinite(pd.to_numeric(df[col], errors="coerce"))]
        self.frame = df.reset_index(drop=True)
        self.rows = self.frame["_row"].to_numpy(dtype=np.int64)
        self.paths = [str(self.base_dir / p) for p in self.frame["h5_path"]]
        self.h5_index = self.frame["h5_index"].to_numpy(dtype=np.int64)
        self.targets = {t: pd.to_numeric(self.frame[t], errors="coerce").to_numpy(dtype=np.float32) for t in TARGETS}
        self.patch_ids = self.frame["patch_id"].astype(str).tolist()
        stats = load_norm_stats(norm_stats)
        self.mean = self.std = None
        if stats is not None:
            self.mean = np.asarray(stats["channels"]["mean"], dtype=np.float32)[:, None, None]
            self.std = np.asarray(stats["channels"]["std"], dtype=np.float32)[:, None, None]
        self.augment = bool(augment)
        self.latlon_planes = bool(latlon_planes)
        self.seed = int(seed)
        self.epoch = 0
        self.center = self.frame[["center_lat", "center_lon"]].to_numpy(dtype=np.float64)
        self.basis = None
        if self.augment and len(self.frame):
            corners = {k: (self.frame[f"corner_{k}_lat"].to_numpy(float), self.frame[f"corner_{k}_lon"].to_numpy(float))
                       for k in CORNER_KEYS}
            self.basis = axis_vectors(corners, self.center[:, 0], self.center[:, 1])
        self._split_name = str(split)
        self._draws = np.zeros(len(self.rows), dtype=np.int64)
        self.set_epoch(0)
        self._files: dict[str, h5py.Dataset] = {}
        self._pid: int | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        """Choose the augmentation draws of ``epoch`` (call before building each epoch's iterator)."""
        self.epoch = int(epoch)
        if self.augment:
            rng = event_rng(self.seed, self._split_name, f"augment/epoch{self.epoch}")
            self._draws = rng.integers(0, 8, size=len(self.rows))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_files"], state["_pid"] = {}, None
        return state

    def _patches(self, path: str) -> h5py.Dataset:
        """The ``patches`` dataset of ``path``, opened once per process (e.g. in each forked worker)."""
        if self._pid != os.getpid():  # first use in this process: never reuse a handle inherited by fork
            self._files, self._pid = {}, os.getpid()
        ds = self._files.get(path)
        if ds is None:
            try:
                ds = open_h5(path)["patches"]
            except (OSError, KeyError) as exc:
                raise OSError(f"{path}: cannot open the patches listed in {self.index_csv} ({exc})") from exc
            self._files[path] = ds
        return ds

    def transform_for(self, k: int) -> Dihedral:
        """The augmentation of item ``k`` in the current epoch (identity without ``augment``)."""
        if not self.augment:
            return Dihedral()
        return Dihedral.from_index(int(self._draws[k]))

    def __getitem__(self, k: int) -> tuple[torch.Tensor, dict[str, torch.Tensor], int]:
        x = np.asarray(self._patches(self.paths[k])[self.h5_index[k]], dtype=np.float32)
        if self.mean is not None:
            if self.mean.shape[0] != x.shape[0]:
                raise ValueError(f"{self.paths[k]}: {x.shape[0]} channels but norm_stats has {self.mean.shape[0]}")
            x -= self.mean
            x /= self.std
        tgt = {name: float(self.targets[name][k]) for name in TARGETS}
        t = self.transform_for(k)
        if t != Dihedral():
            x = t.apply_image(x)
            e, n, d, _ = transform_offset(tgt["east_km"], tgt["north_km"], self.basis[k], t)
            tgt.update(east_km=e, north_km=n, distance_km=d)
        if self.latlon_planes:
            lat, lon = self.center[k]
            planes = np.empty((2, *x.shape[1:]), dtype=np.float32)
            planes[0], planes[1] = lat / 90.0, lon / 180.0
            x = np.concatenate([x, planes], axis=0)
        return (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                {name: torch.tensor(v, dtype=torch.float32) for name, v in tgt.items()}, int(self.rows[k]))
