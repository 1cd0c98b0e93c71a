"""The stage report ``results/report/``: ``summary.md`` (metrics tables with CIs and baselines, the
ranking ablation, figures), ``metrics.csv`` (one row per run and method), and the figures copied
under ``figures/``. The same tables are attached to ``snakemake --report`` by the report rule.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from quakesar.atomic import atomic_path, write_text


def _ci(d: dict[str, Any] | None) -> str:
    if not d or d.get("value") is None:
        return "n/a"
    if d.get("ci_low") is None:
        return f"{d['value']:.3g}"
    return f"{d['value']:.3g} [{d['ci_low']:.3g}, {d['ci_high']:.3g}]"


def run_rows(m: dict[str, Any], run: str) -> list[dict[str, Any]]:
    """Table rows of one run: the model and its baselines, patch and event level."""
    task, rows = m["task"], []
    head = {"task": task, "model": m["model"], "run": run, "n_test_events": m.get("n_events"), "n_test_patches": m.get("n_patches")}
    if task == "magnitude":
        p = m["patch"]["magnitude"]
        rows.append({**head, "method": "model", "patch_mae": p["mae"], "patch_rmse": p["rmse"], "patch_r2": p["r2"],
                     "event_magnitude_mae": _ci(m["event"]["magnitude_mae"])})
        b = m["baselines"]["train_mean"]
        rows.append({**head, "method": "baseline: training mean", "patch_mae": b["patch"]["magnitude"]["mae"],
                     "patch_rmse": b["patch"]["magnitude"]["rmse"], "patch_r2": b["patch"]["magnitude"]["r2"],
                     "event_magnitude_mae": _ci(b["event"]["magnitude_mae"])})
    elif task == "epicentre":
        p = m["patch"]
        rows.append({**head, "method": "model", "patch_error_km_median": p["error_km"]["median"], "patch_east_mae_km": p["east_km"]["mae"],
                     "patch_north_mae_km": p["north_km"]["mae"], "event_error_km_median": _ci(m["event"]["error_km_median"]),
                     "event_error_km_p90": _ci(m["event"]["error_km_p90"]),
                     "event_error_deg_lat_lon": f"{m['event']['error_lat_deg_mae']:.3g} / {m['event']['error_lon_deg_mae']:.3g}"})
        for name, b in m["baselines"].items():
            rows.append({**head, "method": f"baseline: {name.replace('_', ' ')}", "patch_error_km_median": b["patch"]["error_km"]["median"],
                         "event_error_km_median": _ci(b["event"]["error_km_median"]), "event_error_km_p90": _ci(b["event"]["error_km_p90"]),
                         "event_error_deg_lat_lon": f"{b['event']['error_lat_deg_mae']:.3g} / {b['event']['error_lon_deg_mae']:.3g}"})
    elif task == "distance":
        p = m["patch"]["distance_km"]
        rows.append({**head, "method": "model", "patch_mae": p["mae"], "patch_rmse": p["rmse"], "patch_r2": p["r2"],
                     "event_distance_mae_km": _ci(m["event"]["distance_mae_km"])})
        b = m["baselines"]["train_mean"]
        rows.append({**head, "method": "baseline: training mean", "patch_mae": b["patch"]["distance_km"]["mae"],
                     "patch_rmse": b["patch"]["distance_km"]["rmse"], "patch_r2": b["patch"]["distance_km"]["r2"],
                     "event_distance_mae_km": _ci(b["event"]["distance_mae_km"])})
    else:
        rows.append({**head, "method": "model", **{k: m["patch"][k] for k in ("accuracy", "f1", "roc_auc")}})
        b = m["baselines"]["majority"]["patch"]
        rows.append({**head, "method": "baseline: majority", **{k: b[k] for k in ("accuracy", "f1", "roc_auc")}})
    return rows


def _markdown(df: pd.DataFrame) -> str:
    df = df.dropna(axis=1, how="all")
    cols = list(df.columns)
    fmt = lambda v: ("" if v != v else f"{v:.4g}") if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(lines)


def build_report(metrics_files: list[Path], ablation_json: Path | None, out_dir: Path) -> Path:
    """Write ``out_dir/summary.md``, ``metrics.csv`` and ``figures/``; returns the summary path."""
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    rows, figures = [], []
    for f in map(Path, metrics_files):
        m = json.loads(f.read_text())
        run = f.parent.name
        rows.extend(run_rows(m, run))
        for name in m.get("figures", []):
            src = f.parent / name
            if src.is_file():
                dst = out_dir / "figures" / f"{m['task']}_{m['model']}_{run}_{name}"
                with atomic_path(dst) as tmp:
                    shutil.copyfile(src, tmp)
                figures.append((m["task"], m["model"], run, dst.name))
    table = pd.DataFrame(rows)
    with atomic_path(out_dir / "metrics.csv") as tmp:
        table.to_csv(tmp, index=False)
    md = ["# quakesar learning report", "",
          "Test split only (events never seen in training or model selection). Event-level values: one estimate per "
          "earthquake (median of patch magnitudes; geometric median of patch epicentres), with 95% bootstrap CIs over events "
          "in brackets. Baselines use the same test events.", ""]
    for task, g in table.groupby("task", sort=False) if len(table) else []:
        md += [f"## {task}", "", _markdown(g.drop(columns="task")), ""]
    if ablation_json is not None and Path(ablation_json).is_file():
        ab = json.loads(Path(ablation_json).read_text())
        md += ["## Ranking ablation (magnitude)", "", ab["method"], ""]
        arows = [{"model": ab["model"], "lambda": c["lambda"], "seeds": len(c["seeds"]), "events": c["n_events"],
                  "MAE lambda=0": c["mae_lambda0"]["mean"], "MAE lambda": c["mae_lambda"]["mean"],
                  "difference [95% CI]": _ci(c["mae_difference"]), "relative change": _ci(c["relative_change"]),
                  "seeds improved": f"{c['seeds_improved']}/{len(c['seeds'])}"} for c in ab["comparisons"]]
        md += [_markdown(pd.DataFrame(arows)), ""]
        png = Path(ablation_json).with_suffix(".png")
        if png.is_file():
            with atomic_path(out_dir / "figures" / "ablation_ranking.png") as tmp:
                shutil.copyfile(png, tmp)
            md += ["![ranking ablation](figures/ablation_ranking.png)", ""]
    if figures:
        md += ["## Figures", ""]
        md += [f"![{t} {m} {r} {n}](figures/{n})" for t, m, r, n in figures]
        md.append("")
    write_text(out_dir / "summary.md", "\n".join(md))
    return out_dir / "summary.md"
