"""Command-line plumbing shared by the entry points of the per-event Snakemake rules.

The per-event rules (``simulate``, ``interferogram``, ``patches``) run ``python -m
quakesar.<stage>.rule ...`` as ``shell:`` commands instead of ``script:`` files. Snakemake opens,
reads and language-sniffs a rule's script once per job while it plans the DAG, and checks it for
the ``code`` rerun trigger: about 1 ms per job, i.e. a third of the planning time of a
10,000-event catalog (benchmarks/results/dag_scaling.json, docs/scale-out.md). Configuration
sections and the event record travel as JSON strings on the command line (Snakemake ``params``,
so a change of either still re-runs the job).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every rule entry point has (``--log``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--log", type=Path, required=True, help="log file of the job")
    return p


def json_object(name: str, text: str) -> dict[str, Any]:
    """Parse option ``name``'s JSON text into a dict; a clear error naming the option otherwise."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{name}: not valid JSON ({exc}): {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{name}: expected a JSON object, got {type(value).__name__}")
    return value


def paired(names: list[str], option: str, paths: list[Path] | None) -> dict[str, Path] | None:
    """``{name: path}`` from two parallel lists; None for an absent optional list."""
    if paths is None:
        return None
    if len(paths) != len(names):
        raise SystemExit(f"{option}: {len(paths)} paths for {len(names)} subswaths ({' '.join(names)})")
    return dict(zip(names, paths))


def start_logging(path: Path) -> None:
    """Log INFO and above of the job to ``path`` (the rule's ``log:``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
