"""Learning tasks: which targets a task predicts, how they are standardised and which loss trains them.

| task | targets (dataset keys) | outputs | loss |
|---|---|---|---|
| ``distance`` | ``distance_km`` (great circle, patch centre -> epicentre) | 1 | MSE on standardised target |
| ``epicentre`` | ``east_km``, ``north_km`` (epicentre offset from the patch centre, azimuthal equidistant) | 2 | MSE |
| ``magnitude`` | ``magnitude`` | 1 | MSE + lambda * margin ranking (:mod:`quakesar.learning.losses`) |
| ``detection`` | ``deformation`` (0/1 label column of the patches) | 1 logit | binary cross-entropy |

Regression targets are standardised with the mean/std of the **training split** only (z = (y - mean)/std);
the ranking margin is given in target units (magnitude) and divided by the training std so that it
keeps its meaning. Rows whose target is missing (NaN, e.g. a deformation label without truth) are
masked out of the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from quakesar.learning.losses import magnitude_loss


@dataclass(frozen=True)
class TaskSpec:
    """A learning task: its name, the dataset target keys it predicts and its kind."""

    name: str
    targets: tuple[str, ...]
    kind: str  # "regression" or "binary"

    @property
    def num_outputs(self) -> int:
        return len(self.targets)


TASKS: dict[str, TaskSpec] = {
    "distance": TaskSpec("distance", ("distance_km",), "regression"),
    "epicentre": TaskSpec("epicentre", ("east_km", "north_km"), "regression"),
    "magnitude": TaskSpec("magnitude", ("magnitude",), "regression"),
    "detection": TaskSpec("detection", ("deformation",), "binary"),
}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of ``name`` (clear error for an unknown task)."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None


@dataclass(frozen=True)
class TargetScaler:
    """Per-target standardisation ``z = (y - mean) / std`` fitted on the training split."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def identity(cls, n: int) -> "TargetScaler":
        return cls((0.0,) * n, (1.0,) * n)

    @classmethod
    def fit(cls, index: pd.DataFrame, spec: TaskSpec, index_csv: str | Path = "index.csv") -> "TargetScaler":
        """Fit on the rows of ``index`` with ``split == "train"`` (identity for binary tasks)."""
        if spec.kind != "regression":
            return cls.identity(spec.num_outputs)
        train = index[index["split"] == "train"]
        if train.empty:
            raise ValueError(f"{index_csv}: no row with split == 'train'; cannot fit target statistics")
        means, stds = [], []
        for t in spec.targets:
            if t not in train.columns:
                raise ValueError(f"{index_csv}: column {t!r} needed by task {spec.name!r} is missing")
            v = pd.to_numeric(train[t], errors="coerce").to_numpy(float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                raise ValueError(f"{index_csv}: column {t!r} has no finite value in the training split")
            sd = float(v.std())
            means.append(float(v.mean()))
            stds.append(sd if sd > 1e-12 else 1.0)
        return cls(tuple(means), tuple(stds))

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}

    def transform(self, y: torch.Tensor) -> torch.Tensor:
        m = torch.as_tensor(self.mean, dtype=y.dtype, device=y.device)
        s = torch.as_tensor(self.std, dtype=y.dtype, device=y.device)
        return (y - m) / s

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, float) * np.asarray(self.std) + np.asarray(self.mean)


def stack_targets(targets: dict[str, torch.Tensor], spec: TaskSpec) -> torch.Tensor:
    """The task's targets from a batch's target dict as ``[B, num_outputs]`` float."""
    missing = [t for t in spec.targets if t not in targets]
    if missing:
        raise KeyError(f"task {spec.name!r}: the dataset yielded no target {missing} (has {sorted(targets)})")
    return torch.stack([targets[t].reshape(-1).float() for t in spec.targets], dim=1)


def task_loss(spec: TaskSpec, out: torch.Tensor, z: torch.Tensor, ranking_lambda: float = 0.0, margin_z: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of one batch: ``out`` model outputs and ``z`` standardised targets, both ``[B, k]``.

    Rows with a missing (NaN) target are dropped; a batch with none left gives a zero loss.
    """
    out = out.float()
    keep = torch.isfinite(z).all(dim=1)
    out, z = out[keep], z[keep]
    if out.shape[0] == 0:
        return out.sum() * 0.0, {}
    if spec.kind == "binary":
        loss = F.binary_cross_entropy_with_logits(out, z)
        return loss, {"bce": float(loss.detach())}
    if spec.name == "magnitude":
        return magnitude_loss(out[:, 0], z[:, 0], ranking_lambda, margin_z)
    loss = F.mse_loss(out, z)
    return loss, {"mse": float(loss.detach())}
