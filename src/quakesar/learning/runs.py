"""Names of training run directories: ``seed{N}`` or, for the ranking-loss ablation, ``lambda{L}_seed{N}``.

Kept apart from :mod:`quakesar.learning.cli` so that the training rules' scripts import nothing but
the learning environment's packages (tests/test_envs.py follows every import).
"""

from __future__ import annotations

import re

_RUN = re.compile(r"^(?:lambda(?P<lam>[0-9.]+(?:e-?[0-9]+)?)_)?seed(?P<seed>\d+)$")


def run_dir_name(seed: int, ranking_lambda: float | None = None) -> str:
    """``seed{N}`` or, for the ablation, ``lambda{L}_seed{N}`` (docs/architecture.md "Models")."""
    return f"seed{seed}" if ranking_lambda is None else f"lambda{ranking_lambda:g}_seed{seed}"


def parse_run_name(name: str) -> tuple[int, float | None]:
    """(seed, lambda or None) of a run directory name (inverse of :func:`run_dir_name`)."""
    m = _RUN.match(name)
    if not m:
        raise ValueError(f"run directory name {name!r}: expected seed<N> or lambda<L>_seed<N>")
    return int(m["seed"]), (float(m["lam"]) if m["lam"] is not None else None)
