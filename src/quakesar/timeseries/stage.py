"""The stage functions of the time-series rules and CLI (one call each; files in, files out).

Config: the ``timeseries`` section (workflow/schemas/config.schema.yaml): ``simulate`` (simulator
settings, :class:`~quakesar.timeseries.settings.SeriesSettings`), ``train_samples``, ``val_samples``,
``train`` (:data:`quakesar.timeseries.train.DEFAULTS`), ``evaluate``
(:data:`quakesar.timeseries.evaluate.EVAL_DEFAULTS`). Outputs under ``results/timeseries/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from quakesar.atomic import write_json, write_text
from quakesar.timeseries.dataset import simulate_split, write_dataset
from quakesar.timeseries.settings import SeriesSettings


def simulate_stage(section: Mapping[str, Any], seed: int, train_out: str | Path, val_out: str | Path) -> None:
    """Simulate the training and validation sets (``train-*`` and ``val-*`` ids, disjoint)."""
    settings = SeriesSettings.from_config(section.get("simulate"))
    n_train, n_val = int(section.get("train_samples", 2000)), int(section.get("val_samples", 200))
    write_dataset(train_out, simulate_split("train", n_train, settings, seed), settings, seed, "train", n_train)
    write_dataset(val_out, simulate_split("val", n_val, settings, seed), settings, seed, "val", n_val)


def train_stage(section: Mapping[str, Any], seed: int, train_h5: str | Path, val_h5: str | Path, run_dir: str | Path,
                threads: int = 1) -> dict[str, Any]:
    """Train (resuming a killed run) into ``run_dir``."""
    from quakesar.timeseries.train import fit

    cfg = {**dict(section.get("train") or {}), "threads": int(threads)}
    return fit(train_h5, val_h5, run_dir, cfg, seed)


def evaluate_stage(section: Mapping[str, Any], seed: int, checkpoint: str | Path, out_json: str | Path,
                   catalog_csv: str | Path | None = None, threads: int = 1) -> dict[str, Any]:
    """Evaluate a checkpoint (detection limit, RMSE vs baselines, detectable magnitude) into ``out_json``."""
    from quakesar.timeseries.evaluate import evaluate

    device = str((section.get("train") or {}).get("device", "auto"))
    result = evaluate(checkpoint, section.get("evaluate"), seed, catalog_csv=catalog_csv, device=device, threads=threads)
    write_json(out_json, result)
    return result


def figures_stage(metrics_json: str | Path, checkpoint: str | Path, seed: int, detection_png: str | Path,
                  example_png: str | Path, summary_md: str | Path) -> None:
    """Detection curves, an example tile, and the report fragment."""
    from quakesar.timeseries.figures import detection_figure, example_figure
    from quakesar.timeseries.report import summary_markdown

    detection_figure(metrics_json, detection_png)
    example_figure(checkpoint, example_png, seed)
    write_text(summary_md, summary_markdown(metrics_json))
