"""The stage report ``results/report/``: ``summary.md`` (data, the event-level comparison of every
estimator with its baselines per task and stratum, seed-pooled results, the test events' answers, the
ranking ablation, the physics inversion when it ran, figures), ``metrics.csv`` (one row per run, task
and stratum) and the figures copied under ``figures/``.

**Seed-pooled rows**: for an estimator and model trained with several seeds, each test event's error is
averaged over the seeds first; the median/MAE and the paired difference to the baseline then get a
bootstrap CI over events (the seeds' spread is inside each event's mean; the events are the resampled
unit), so "beats the baseline" is judged over seeds and events at once.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quakesar.atomic import atomic_path, write_text
from quakesar.learning.bootstrap import bootstrap_ci, mean_abs, median
from quakesar.learning.tasks import STRATA, TASKS, WITHIN_KM, fmt_ci

TITLES = {"gated": "gated patch model", "set": "event-set model"}


def _markdown(df: pd.DataFrame) -> str:
    df = df.dropna(axis=1, how="all")
    cols = list(df.columns)
    fmt = lambda v: ("" if v != v else f"{v:.4g}") if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(lines)


def run_rows(m: dict[str, Any], run: str) -> list[dict[str, Any]]:
    """Table rows of one run: every task's rows (model vs baseline, per stratum)."""
    head = {"estimator": m["estimator"], "model": m["model"], "run": run}
    rows: list[dict[str, Any]] = []
    for name, metrics in m.get("test", {}).items():
        if name in TASKS and isinstance(metrics, dict):
            rows.extend(TASKS[name].report_rows(metrics, head))
    return rows


def pooled_rows(runs: list[tuple[dict[str, Any], pd.DataFrame]], n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Seed-pooled epicentre and magnitude rows per (estimator, model) (module docstring)."""
    by_key: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for m, ev in runs:
        if m.get("ranking_lambda") is not None and Path(m.get("_dir", "")).name.startswith("lambda"):
            continue
        by_key.setdefault((m["estimator"], m["model"]), []).append(ev.set_index("event_id"))
    rows = []
    for (est, model), evs in sorted(by_key.items()):
        common = sorted(set.intersection(*(set(e.index) for e in evs)))
        if not common:
            continue
        stack = lambda col: np.mean([e.loc[common, col].to_numpy(float) for e in evs], axis=0)  # noqa: E731
        err, base = stack("error_km"), evs[0].loc[common, "baseline_error_km"].to_numpy(float)
        merr = np.mean([np.abs(e.loc[common, "magnitude_error"].to_numpy(float)) for e in evs], axis=0)
        mbase = np.abs(evs[0].loc[common, "baseline_magnitude_error"].to_numpy(float))
        det = evs[0].loc[common, "truth_detectable"].to_numpy(int) == 1
        for stratum, sel in (("all", np.ones(len(common), bool)), ("detectable", det), ("undetectable", ~det)):
            if not sel.any():
                continue
            tag = f"{est} {model} {stratum}"
            rows.append({"estimator": est, "model": model, "seeds": len(evs), "stratum": stratum, "n_events": int(sel.sum()),
                         "epicentre median km": fmt_ci(bootstrap_ci(err[sel], median, n_boot, seed, f"pooled epi {tag}")),
                         "patch centre median km": fmt_ci(bootstrap_ci(base[sel], median, n_boot, seed, f"pooled epi base {tag}")),
                         "epicentre paired diff km": fmt_ci(bootstrap_ci(err[sel] - base[sel], np.mean, n_boot, seed, f"pooled epi diff {tag}")),
                         f"within {WITHIN_KM:g} km": f"{np.mean(err[sel] <= WITHIN_KM):.2f}",
                         "Mw MAE": fmt_ci(bootstrap_ci(merr[sel], np.mean, n_boot, seed, f"pooled mag {tag}")),
                         "training-mean MAE": fmt_ci(bootstrap_ci(mbase[sel], mean_abs, n_boot, seed, f"pooled mag base {tag}")),
                         "Mw paired diff": fmt_ci(bootstrap_ci(merr[sel] - mbase[sel], np.mean, n_boot, seed, f"pooled mag diff {tag}"))})
    return rows


def _copy(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _json(path: Path | None) -> dict[str, Any] | None:
    if path is None or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text())


def data_section(dataset_summary: Path | None, trainingset_summary: Path | None) -> list[str]:
    """What the runs were trained and tested on."""
    md: list[str] = []
    ds = _json(dataset_summary)
    if ds:
        md += ["## Data", "", f"Full pipeline (simulate -> native interferogram -> patches): {ds['events']} events, "
               f"{ds['patches']} patches, {ds['groups']} scene/sequence groups.", ""]
        md += [_markdown(pd.DataFrame([{"split": s, **v} for s, v in ds["per_split"].items()])), ""]
    ts = _json(trainingset_summary)
    if ts:
        md += [f"Training-data tier (patch-level simulator, training only): {int(ts['events'])} synthetic events, "
               f"{int(ts['patches'])} patches ({int(ts['signal_patches'])} signal-bearing), simulated in {ts['seconds']:.0f} s of CPU; "
               f"{len(ts.get('failed', []))} events failed.", ""]
    return md


def build_report(metrics_files: list[Path], ablation_json: Path | None, out_dir: Path, dataset_summary: Path | None = None,
                 trainingset_summary: Path | None = None, extra_sections: list[Path] | None = None) -> Path:
    """Write ``out_dir/summary.md``, ``metrics.csv`` and ``figures/``; returns the summary path.

    ``extra_sections``: markdown fragments appended as they are (e.g. the physics inversion's summary).
    """
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    rows, figures, runs = [], [], []
    n_boot, seed = 1000, 0
    for f in map(Path, metrics_files):
        m = json.loads(f.read_text())
        m["_dir"] = str(f.parent)
        run = f.parent.name
        rows.extend(run_rows(m, run))
        n_boot = int(m.get("config", {}).get("bootstrap", n_boot))
        if (f.parent / "events.csv").is_file():
            runs.append((m, pd.read_csv(f.parent / "events.csv", dtype={"event_id": str})))
        for name in m.get("figures", []):
            src = f.parent / name
            if src.is_file():
                dst = out_dir / "figures" / f"{m['estimator']}_{m['model']}_{run}_{name}"
                _copy(src, dst)
                figures.append((m["estimator"], m["model"], run, dst.name))
    table = pd.DataFrame(rows)
    with atomic_path(out_dir / "metrics.csv") as tmp:
        table.to_csv(tmp, index=False)
    md = ["# quakesar learning report", "",
          "Test events only: full-pipeline events never seen in training or model selection (split by event and shared "
          "scene). One answer per earthquake; 95 % bootstrap CIs over events in brackets. *Detectable*: truth peak LOS >= 3 x "
          "the turbulence standard deviation. *Paired difference*: mean over events of (model error - baseline error); a CI "
          "entirely below 0 means the model beats the baseline on these events. Predicted-undetectable events get the "
          "flagged fallback answer (patch centre, training-mean Mw for the gated model).", ""]
    md += data_section(dataset_summary, trainingset_summary)
    pooled = pooled_rows(runs, n_boot, seed)
    if pooled:
        md += ["## Seed-pooled event-level results", "", _markdown(pd.DataFrame(pooled)), ""]
    if len(table):
        for task, g in table.groupby("task", sort=False):
            md += [f"## {TASKS[task].title}, per run", "", _markdown(g.drop(columns="task")), ""]
    if runs:
        m0, ev0 = runs[0]
        cols = ["event_id", "p_detectable", "fallback", "pred_lat", "pred_lon", "epicentre_r95_km", "pred_magnitude",
                "pred_magnitude_lo", "pred_magnitude_hi", "true_magnitude", "truth_snr", "error_km", "baseline_error_km", "magnitude_error"]
        md += [f"## Test-event answers ({TITLES.get(m0['estimator'], m0['estimator'])}, {m0['model']}, {Path(m0['_dir']).name})", "",
               _markdown(ev0[[c for c in cols if c in ev0.columns]]), ""]
    ab = _json(ablation_json)
    if ab:
        md += ["## Ranking ablation", "", ab["method"], ""]
        arows = []
        for c in ab["comparisons"]:
            for stratum in ("all", "detectable"):
                d = c.get(stratum, {})
                if not d.get("n_events"):
                    continue
                arows.append({"model": ab["model"], "lambda": c["lambda"], "stratum": stratum, "seeds": len(c["seeds"]),
                              "events": d["n_events"], "MAE lambda=0": d["mae_lambda0"]["mean"], "MAE lambda": d["mae_lambda"]["mean"],
                              "difference [95% CI]": fmt_ci(d["mae_difference"]), "relative change": fmt_ci(d["relative_change"]),
                              "seeds improved": f"{d['seeds_improved']}/{len(c['seeds'])}"})
        md += [_markdown(pd.DataFrame(arows)), ""]
        png = Path(ablation_json).with_suffix(".png")
        if png.is_file():
            _copy(png, out_dir / "figures" / "ablation_ranking.png")
            md += ["![ranking ablation](figures/ablation_ranking.png)", ""]
    for frag in extra_sections or []:
        if Path(frag).is_file():
            md += [Path(frag).read_text().rstrip(), ""]
    if figures:
        md += ["## Figures", ""]
        md += [f"![{e} {m} {r} {n}](figures/{n})" for e, m, r, n in figures]
        md.append("")
    write_text(out_dir / "summary.md", "\n".join(md))
    return out_dir / "summary.md"


__all__ = ["build_report", "run_rows", "pooled_rows", "STRATA"]
