"""The learning stage's view of the patches: one table over both data sources, pixels held in memory.

Sources (docs/learning.md, "Training data"):

* the full pipeline's dataset (``results/dataset/index.csv``, every patch of every catalog event, each
  event in the train, val or test split of :mod:`quakesar.dataset.split`), ``origin = "pipeline"``;
* the training-data tier (``results/trainingset/index.csv``, synthetic training events simulated
  straight to patches, :mod:`quakesar.trainingset`), ``origin = "trainingset"``, always ``split = "train"``.

Model input (:func:`model_input`): the coherence, standardised with the training patches' mean and
standard deviation, and the interferogram's phase as a unit phasor ``(cos phi, sin phi) = (i, q) / |z|``.
The amplitude of ``z`` is left out on purpose: it scales with the SLCs' backscatter and each processor's
conventions (SNAP, the native backend, LiCSAR and HyP3 all differ) while the phase and the coherence mean
the same everywhere, so radar-geometry training transfers to other products.

Auxiliary input: the incidence angle at the patch centre, ``(theta - 39 deg) / 5 deg`` (0 when unknown):
it scales the LOS sensitivity to vertical and horizontal motion, hence the magnitude-to-fringe relation.
The pass (ascending/descending) is not an input: every target is expressed in the patch's own image frame
(``epi_u``, ``epi_v``), in which the pass does not matter, and mapped to geography with the patch's own
corners.

Augmentation (:func:`augment_batch`): one of the 8 dihedral transforms of the square per item and epoch,
with the image-frame offset transformed by the same matrix ``T`` (:class:`quakesar.dataset.augment.Dihedral`):
exact, whatever the pass and skew of the footprint.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import torch

from quakesar.dataset.augment import Dihedral
from quakesar.h5io import open_h5

RAW_CHANNELS = ("coherence", "i", "q")
INPUT_CHANNELS = ("coherence", "cos_phase", "sin_phase")
INCIDENCE_CENTRE_DEG = 39.0
INCIDENCE_SCALE_DEG = 5.0
TABLE_DTYPES = {"event_id": str, "scene_id": str, "patch_id": str, "split": str, "group_id": str, "h5_path": str,
                "magnitude_type": str, "subswath": str, "source_file": str, "parent_id": str, "origin": str}
REQUIRED_COLUMNS = ("patch_id", "event_id", "h5_path", "h5_index", "split", "center_lat", "center_lon", "corner_00_lat",
                    "corner_00_lon", "corner_01_lat", "corner_01_lon", "corner_11_lat", "corner_11_lon", "corner_10_lat",
                    "corner_10_lon")
TRUTH_COLUMNS = ("epicenter_lat", "epicenter_lon", "mw", "signal", "snr", "epi_u", "epi_v", "peak_abs_los_m",
                 "turbulence_std_m")


def read_table(index_csv: str | Path, origin: str) -> pd.DataFrame:
    """One index CSV as a table with absolute ``path`` per row and an ``origin`` column."""
    index_csv = Path(index_csv)
    try:
        df = pd.read_csv(index_csv, dtype=TABLE_DTYPES, keep_default_na=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{index_csv}: cannot read the patch index ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{index_csv}: columns {missing} missing (expected a dataset or trainingset index)")
    df["path"] = [str((index_csv.parent / p).resolve()) for p in df["h5_path"]]
    df["origin"] = origin
    for col in TRUTH_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
        df[col] = pd.to_numeric(df[col], errors="coerce")
    if "incidence_deg" not in df.columns:
        df["incidence_deg"] = np.nan
    return df


def load_table(dataset_dir: str | Path, trainingset_index: str | Path | None = None) -> pd.DataFrame:
    """The full pipeline's dataset index plus, when given, the training-data tier's index."""
    frames = [read_table(Path(dataset_dir) / "index.csv", "pipeline")]
    if trainingset_index is not None:
        ts = read_table(trainingset_index, "trainingset")
        ts["split"] = "train"
        frames.append(ts)
    table = pd.concat(frames, ignore_index=True)
    dup = table["patch_id"][table["patch_id"].duplicated()]
    if len(dup):
        raise ValueError(f"patch id {dup.iloc[0]!r} occurs twice in the dataset and training-tier indexes")
    return table


def _hash_file(h: Any, path: str) -> None:
    """Feed a file's bytes to the hash ``h`` in 4 MiB blocks."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)


def data_fingerprint(files: Iterable[str | Path], table: pd.DataFrame | None = None) -> str:
    """SHA-256 over the index files' bytes and the bytes of each referenced pixel file.

    A run resumes from ``last.pt`` only when this equals the fingerprint stored there: a catalog update
    (new rows), re-tiled patches or a new training tier all start a fresh run (issue 17). Content, not
    modification times, so that the same data gives the same fingerprint (and byte-identical
    checkpoints) on another machine or under SLURM; hashing is ~1 GB/s, a second for the main config.
    Only bytes enter it, never the (resolved, machine-dependent) paths: the index files name their
    pixel files relative to themselves, so equal index bytes mean the same layout.
    """
    h = hashlib.sha256()
    for f in sorted(str(p) for p in files):
        _hash_file(h, f)
    if table is not None:
        for p in sorted(set(table["path"])):
            h.update(f"{os.stat(p).st_size}:".encode())
            _hash_file(h, p)
    return h.hexdigest()


def load_pixels(table: pd.DataFrame, dtype: type = np.float16) -> np.ndarray:
    """The raw channels (coherence, i, q) of every row of ``table`` as ``[N, 3, S, S]``, in row order.

    Each HDF5 file is read once with increasing indices; the file's ``channels`` attribute decides which
    planes are coherence, i and q (a clear error names the file when one is missing).
    """
    import json

    out: np.ndarray | None = None
    order = np.arange(len(table))
    for path, idx in table.groupby("path", sort=True).indices.items():
        rows = order[idx]
        h5i = table["h5_index"].to_numpy(np.int64)[rows]
        srt = np.argsort(h5i, kind="stable")
        try:
            with open_h5(path) as f:
                ds = f["patches"]
                chans = json.loads(ds.attrs.get("channels", f.attrs.get("channels", "[]")))
                missing = [c for c in RAW_CHANNELS if c not in chans]
                if missing:
                    raise ValueError(f"{path}: patches lack channels {missing} (have {chans}); the models read "
                                     f"{list(RAW_CHANNELS)} (patches.channels)")
                pick = [chans.index(c) for c in RAW_CHANNELS]
                sel = h5i[srt]
                # one contiguous read when most of the file is wanted (h5py point selections are slow)
                if len(np.unique(sel)) != len(sel) or len(sel) > 0.3 * ds.shape[0]:
                    block = ds[()][sel]
                else:
                    block = ds[sel]
        except OSError as exc:
            raise OSError(f"{path}: cannot read patches ({exc})") from exc
        block = np.asarray(block)[:, pick]
        if out is None:
            out = np.empty((len(table), 3, *block.shape[-2:]), dtype=dtype)
        if block.shape[-2:] != out.shape[-2:]:
            raise ValueError(f"{path}: patch size {block.shape[-2:]} differs from {out.shape[-2:]} of the other files")
        out[rows[srt]] = block.astype(dtype)
    if out is None:
        return np.zeros((0, 3, 1, 1), dtype=dtype)
    return out


@dataclass(frozen=True)
class InputNorm:
    """Standardisation of the coherence channel (training patches' statistics)."""

    coherence_mean: float
    coherence_std: float

    @classmethod
    def fit(cls, pixels: np.ndarray) -> "InputNorm":
        c = np.asarray(pixels[:, 0], dtype=np.float64)
        c = c[np.isfinite(c)]
        if c.size == 0:
            return cls(0.0, 1.0)
        sd = float(c.std())
        return cls(float(c.mean()), sd if sd > 1e-9 else 1.0)

    def as_dict(self) -> dict[str, float]:
        return {"coherence_mean": self.coherence_mean, "coherence_std": self.coherence_std}


def model_input(raw: torch.Tensor, norm: InputNorm) -> torch.Tensor:
    """``[B, 3, S, S]`` raw (coherence, i, q) -> (standardised coherence, cos phi, sin phi); NaN -> 0."""
    raw = torch.nan_to_num(raw.float(), nan=0.0, posinf=0.0, neginf=0.0)
    coh = (raw[:, 0] - norm.coherence_mean) / norm.coherence_std
    mag = torch.sqrt(raw[:, 1] ** 2 + raw[:, 2] ** 2)
    ok = mag > 1e-12
    safe = torch.where(ok, mag, torch.ones_like(mag))
    cos = torch.where(ok, raw[:, 1] / safe, torch.zeros_like(mag))
    sin = torch.where(ok, raw[:, 2] / safe, torch.zeros_like(mag))
    return torch.stack([coh, cos, sin], dim=1)


def aux_input(incidence_deg: np.ndarray) -> np.ndarray:
    """``[N, 1]`` float32 incidence feature (see module docstring)."""
    inc = np.asarray(incidence_deg, dtype=np.float64)
    return np.where(np.isfinite(inc), (inc - INCIDENCE_CENTRE_DEG) / INCIDENCE_SCALE_DEG, 0.0).astype(np.float32)[:, None]


_DIHEDRAL = [Dihedral.from_index(k) for k in range(8)]
_MATRICES = torch.tensor(np.stack([d.matrix() for d in _DIHEDRAL]), dtype=torch.float32)


def augment_batch(x: torch.Tensor, uv: torch.Tensor, draws: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply dihedral transform ``draws[k]`` to item k of ``x [B, C, S, S]`` and its offset ``uv [B, 2]``."""
    x = x.clone()
    for k in np.unique(draws):
        if k == 0:
            continue
        sel = torch.as_tensor(np.nonzero(draws == k)[0])
        d = _DIHEDRAL[int(k)]
        xs = x[sel]
        if d.transpose:
            xs = xs.transpose(-1, -2)
        if d.flip_rows:
            xs = xs.flip(-2)
        if d.flip_cols:
            xs = xs.flip(-1)
        x[sel] = xs
    uv2 = torch.einsum("bij,bj->bi", _MATRICES[torch.as_tensor(draws, dtype=torch.long)], uv.float())
    return x, uv2


@dataclass
class PatchArrays:
    """A table's rows with their pixels and targets as arrays (what the trainer and predictor iterate)."""

    table: pd.DataFrame
    pixels: np.ndarray
    aux: np.ndarray = field(init=False)
    signal: np.ndarray = field(init=False)
    uv: np.ndarray = field(init=False)
    mw: np.ndarray = field(init=False)
    event_code: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        t = self.table
        self.aux = aux_input(t["incidence_deg"].to_numpy())
        self.signal = np.nan_to_num(t["signal"].to_numpy(np.float64), nan=0.0).astype(np.float32)
        self.uv = np.nan_to_num(t[["epi_u", "epi_v"]].to_numpy(np.float64), nan=0.0).astype(np.float32)
        self.mw = t["mw"].to_numpy(np.float64).astype(np.float32)
        self.event_code = pd.factorize(t["event_id"])[0].astype(np.int64)

    def __len__(self) -> int:
        return len(self.table)

    def batch(self, idx: np.ndarray) -> dict[str, torch.Tensor]:
        """Item ``idx`` as tensors: raw pixels (float32), aux, signal, uv, mw, event codes, row numbers."""
        return {"raw": torch.from_numpy(self.pixels[idx].astype(np.float32)), "aux": torch.from_numpy(self.aux[idx]),
                "signal": torch.from_numpy(self.signal[idx]), "uv": torch.from_numpy(self.uv[idx]),
                "mw": torch.from_numpy(self.mw[idx]), "event": torch.from_numpy(self.event_code[idx]),
                "row": torch.from_numpy(np.asarray(idx, dtype=np.int64))}


def arrays(table: pd.DataFrame, dtype: type = np.float16) -> PatchArrays:
    """Load the pixels of ``table`` (reset index) into a :class:`PatchArrays`."""
    t = table.reset_index(drop=True)
    return PatchArrays(t, load_pixels(t, dtype))


def epoch_items(signal: np.ndarray, rng: np.random.Generator, negatives_per_positive: float, max_items: int | None,
                events: np.ndarray | None = None, positives_per_event: int | None = None) -> np.ndarray:
    """One epoch's training rows: the signal-bearing patches (at most ``positives_per_event`` of each event,
    a fresh random choice every epoch) and ``negatives_per_positive`` times as many others drawn without
    replacement, capped at ``max_items`` (then both thinned in proportion), shuffled.

    Signal-bearing patches are 2-10 % of all patches; without this balance a detector learns the prior and
    the offset/magnitude heads see few informative patches per epoch. Without the per-event cap a great
    earthquake (all 63 patches of an Mw 7.8 carry signal) would outweigh dozens of moderate ones and bias
    the magnitude head towards large events.
    """
    pos = np.nonzero(signal > 0.5)[0]
    if positives_per_event and events is not None and len(pos):
        ev = events[pos]
        keep = []
        for e in np.unique(ev):
            members = pos[ev == e]
            keep.append(members if len(members) <= positives_per_event else rng.choice(members, positives_per_event, replace=False))
        pos = np.sort(np.concatenate(keep))
    neg = np.nonzero(signal <= 0.5)[0]
    n_neg = min(len(neg), int(round(negatives_per_positive * max(len(pos), 1))))
    if max_items is not None and len(pos) + n_neg > max_items:
        scale = max_items / float(len(pos) + n_neg)
        pos = rng.choice(pos, size=max(1, int(len(pos) * scale)), replace=False) if len(pos) else pos
        n_neg = max(0, max_items - len(pos))
    picked = np.concatenate([pos, rng.choice(neg, size=min(n_neg, len(neg)), replace=False)]) if len(neg) else pos
    return rng.permutation(picked).astype(np.int64)
