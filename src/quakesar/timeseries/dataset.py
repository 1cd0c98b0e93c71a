"""HDF5 dataset of simulated series: ``results/timeseries/data/{split}.h5``.

Layout (one row per sample; every file written to a temporary name and renamed, :mod:`quakesar.atomic`):

* ``series`` [M, N, H, W] float32, m: LOS displacement relative to acquisition 0 (MintPy layout);
* ``dem`` [M, H, W] float32, m; ``cumulative`` [M, H, W] float32, m: the true deformation between the
  first and the last acquisition; ``time_function`` [M, N] float32: true deformation at k = s_k cumulative;
* ``days`` [N] float32; ``truth/<field>`` [M] one dataset per :data:`~quakesar.timeseries.simulate.TRUTH_FIELDS`
  (strings UTF-8); ``sample_id`` [M];
* attributes: ``settings`` (JSON of :class:`~quakesar.timeseries.settings.SeriesSettings`), ``seed``,
  ``split``, ``units = "m"``, ``sign_convention``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import h5py
import numpy as np

from quakesar import convention
from quakesar.atomic import atomic_path
from quakesar.h5io import open_h5
from quakesar.timeseries.settings import SeriesSettings
from quakesar.timeseries.simulate import TRUTH_FIELDS, SeriesSample, simulate_sample

log = logging.getLogger("quakesar.timeseries.dataset")
_STRING_FIELDS = ("kind", "mechanism")


@dataclass
class SeriesArrays:
    """A dataset in memory (arrays as in the file) with its truth table and settings."""

    series: np.ndarray
    dem: np.ndarray
    cumulative: np.ndarray
    time_function: np.ndarray
    days: np.ndarray
    truth: dict[str, np.ndarray]
    sample_id: list[str]
    settings: SeriesSettings

    def __len__(self) -> int:
        return int(self.series.shape[0])


def simulate_split(split: str, n: int, settings: SeriesSettings, seed: int, **overrides: Any) -> Iterable[SeriesSample]:
    """The ``n`` samples of one split, ids ``{split}-{index:06d}`` (deterministic from ``seed``)."""
    for i in range(n):
        yield simulate_sample(f"{split}-{i:06d}", settings, seed, **overrides)


def write_dataset(path: str | Path, samples: Iterable[SeriesSample], settings: SeriesSettings, seed: int, split: str,
                  n: int, progress_every: int = 500) -> Path:
    """Write ``n`` samples to ``path`` atomically (the iterable must yield exactly ``n``)."""
    path = Path(path)
    s, h = settings.n_dates, settings.size
    with atomic_path(path) as tmp, open_h5(tmp, "w") as f:
        ds = {"series": f.create_dataset("series", (n, s, h, h), np.float32, chunks=(1, s, h, h)),
              "dem": f.create_dataset("dem", (n, h, h), np.float32, chunks=(1, h, h)),
              "cumulative": f.create_dataset("cumulative", (n, h, h), np.float32, chunks=(1, h, h)),
              "time_function": f.create_dataset("time_function", (n, s), np.float32)}
        truth: dict[str, list[Any]] = {k: [] for k in TRUTH_FIELDS}
        ids: list[str] = []
        count = 0
        for i, smp in enumerate(samples):
            if i >= n:
                raise ValueError(f"{path}: more than the declared {n} samples")
            ds["series"][i] = smp.series
            ds["dem"][i] = smp.dem
            ds["cumulative"][i] = smp.cumulative
            ds["time_function"][i] = smp.time_function
            for k in TRUTH_FIELDS:
                truth[k].append(smp.truth[k])
            ids.append(smp.sample_id)
            count = i + 1
            if progress_every and count % progress_every == 0:
                log.info("%s: %d/%d samples", path.name, count, n)
        if count != n:
            raise ValueError(f"{path}: expected {n} samples, got {count}")
        f.create_dataset("days", data=np.asarray(settings.event_days, np.float32))
        f.create_dataset("sample_id", data=np.array(ids, dtype=h5py.string_dtype()))
        g = f.create_group("truth")
        for k, vals in truth.items():
            if k in _STRING_FIELDS:
                g.create_dataset(k, data=np.array([str(v) for v in vals], dtype=h5py.string_dtype()))
            else:
                g.create_dataset(k, data=np.asarray(vals, dtype=np.float64))
        f.attrs.update({"settings": json.dumps(settings.as_dict(), sort_keys=True), "seed": int(seed), "split": split,
                        "units": "m", "sign_convention": convention.SIGN_CONVENTION,
                        "layout": "series[k] = LOS displacement at acquisition k relative to acquisition 0"})
    log.info("%s: wrote %d samples", path, n)
    return path


def read_dataset(path: str | Path) -> SeriesArrays:
    """Read a dataset written by :func:`write_dataset` (errors name the file and the missing field)."""
    path = Path(path)
    with open_h5(path) as f:
        for name in ("series", "dem", "cumulative", "time_function", "days", "sample_id", "truth"):
            if name not in f:
                raise ValueError(f"{path}: not a quakesar time-series dataset (no '{name}')")
        if "settings" not in f.attrs:
            raise ValueError(f"{path}: attribute 'settings' missing")
        settings = SeriesSettings.from_config(json.loads(f.attrs["settings"]))
        truth: dict[str, np.ndarray] = {}
        for k in TRUTH_FIELDS:
            if k not in f["truth"]:
                raise ValueError(f"{path}: truth field 'truth/{k}' missing")
            v = f["truth"][k][()]
            truth[k] = np.array([x.decode() if isinstance(x, bytes) else str(x) for x in v]) if k in _STRING_FIELDS else v
        return SeriesArrays(f["series"][()], f["dem"][()], f["cumulative"][()], f["time_function"][()], f["days"][()],
                            truth, [x.decode() if isinstance(x, bytes) else str(x) for x in f["sample_id"][()]], settings)


def arrays_from_samples(samples: list[SeriesSample], settings: SeriesSettings) -> SeriesArrays:
    """The in-memory form of a list of samples (evaluation sets that are never written)."""
    truth = {k: np.array([smp.truth[k] for smp in samples]) for k in TRUTH_FIELDS}
    for k in TRUTH_FIELDS:
        if k not in _STRING_FIELDS:
            truth[k] = truth[k].astype(np.float64)
    return SeriesArrays(np.stack([x.series for x in samples]), np.stack([x.dem for x in samples]),
                        np.stack([x.cumulative for x in samples]), np.stack([x.time_function for x in samples]),
                        np.asarray(settings.event_days, np.float32), truth, [x.sample_id for x in samples], settings)
