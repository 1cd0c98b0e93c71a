"""The ranking ablation: gated models trained with lambda = 0 and lambda > 0, everything else fixed.

The ranking paper (Rege Cambrin et al. 2024) reported gains of the margin-ranking term without a
controlled comparison. Here the runs share architecture, data, schedule and seeds (the initial
weights, the negatives and the batch order derive from the seed only, :mod:`quakesar.learning.train`),
so each lambda > 0 run has a twin at lambda = 0. The effect is the **paired** difference of the
event-level absolute errors of the model's own magnitude answer (``model_magnitude`` of ``events.csv``,
before any fallback to the prior, which would be the same for both), ``d[e, s] = |err_lambda(e, s)| -
|err_0(e, s)|`` for test event ``e`` and seed ``s``; its mean is the difference of the event-level MAEs
(negative = ranking helps). Reported for all test events and for the truth-detectable ones. The 95 % CI
resamples events (the same resampled events for every seed, keeping the seed pairing), see
:mod:`quakesar.learning.bootstrap`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quakesar.atomic import write_json
from quakesar.learning.bootstrap import bootstrap_ci


def _load_run(run_dir: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    mpath, epath = run_dir / "metrics.json", run_dir / "events.csv"
    for p in (mpath, epath):
        if not p.is_file():
            raise FileNotFoundError(f"ablation run {run_dir}: {p.name} is missing")
    m = json.loads(mpath.read_text())
    if m.get("estimator") != "gated":
        raise ValueError(f"{mpath}: the ranking ablation compares gated runs, got estimator {m.get('estimator')!r}")
    ev = pd.read_csv(epath, dtype={"event_id": str}).set_index("event_id")
    ev["abs_error"] = (ev["model_magnitude"] - ev["true_magnitude"]).abs()
    return m, ev[["abs_error", "truth_detectable"]]


def summarise(run_dirs: list[Path], out_json: Path, out_png: Path, n_bootstrap: int | None = None) -> dict[str, Any]:
    """Pair runs by seed and event, compare each lambda > 0 with lambda = 0; write JSON and a figure."""
    runs: dict[float, dict[int, pd.DataFrame]] = {}
    models = set()
    boot = n_bootstrap
    for d in map(Path, run_dirs):
        m, err = _load_run(d)
        lam, seed = float(m["ranking_lambda"]), int(m["seed"])
        if seed in runs.setdefault(lam, {}):
            raise ValueError(f"ablation: two runs with lambda {lam} and seed {seed} ({d})")
        runs[lam][seed] = err
        models.add(m["model"])
        boot = boot or int(m.get("config", {}).get("bootstrap", 1000))
    if len(models) > 1:
        raise ValueError(f"ablation: runs of different models {sorted(models)} cannot be paired")
    if 0.0 not in runs:
        raise ValueError("ablation: no run with ranking_lambda 0 (plain regression) to compare with")
    base = runs[0.0]
    result: dict[str, Any] = {"model": models.pop(), "baseline_lambda": 0.0, "n_bootstrap": boot, "comparisons": [],
                              "method": "gated model; paired by seed and test event; difference of the event-level MAE of the model's "
                                        "own magnitude answer (lambda - 0); negative means the ranking term lowers the error; "
                                        "95% percentile bootstrap over events; all events and truth-detectable events"}
    for lam in sorted(k for k in runs if k != 0.0):
        seeds = sorted(set(runs[lam]) & set(base))
        if not seeds:
            raise ValueError(f"ablation: lambda {lam} shares no seed with lambda 0")
        events = sorted(set.intersection(*(set(base[s].index) & set(runs[lam][s].index) for s in seeds)))
        if not events:
            raise ValueError(f"ablation: lambda {lam} and lambda 0 share no test event")
        det = base[seeds[0]].loc[events, "truth_detectable"].to_numpy(bool)
        comp: dict[str, Any] = {"lambda": lam, "seeds": seeds, "n_events": len(events), "n_seeds": len(seeds)}
        for name, sel in (("all", np.ones(len(events), bool)), ("detectable", det)):
            if not sel.any():
                comp[name] = {"n_events": 0}
                continue
            a0 = np.stack([base[s].loc[events, "abs_error"].to_numpy(float)[sel] for s in seeds], axis=1)
            a1 = np.stack([runs[lam][s].loc[events, "abs_error"].to_numpy(float)[sel] for s in seeds], axis=1)
            comp[name] = {
                "n_events": int(sel.sum()),
                "mae_lambda0": {"per_seed": dict(zip(map(str, seeds), a0.mean(axis=0).tolist())), "mean": float(a0.mean())},
                "mae_lambda": {"per_seed": dict(zip(map(str, seeds), a1.mean(axis=0).tolist())), "mean": float(a1.mean())},
                "mae_difference": bootstrap_ci(a1 - a0, lambda v: float(np.mean(v)), boot, seeds[0], f"ablation lambda {lam} {name}"),
                "relative_change": bootstrap_ci(np.stack([a0, a1], axis=0).transpose(1, 0, 2), _relative, boot, seeds[0],
                                                f"ablation relative lambda {lam} {name}"),
                "seeds_improved": int(np.sum(a1.mean(axis=0) < a0.mean(axis=0))),
            }
        comp.update({k: comp["all"][k] for k in ("mae_lambda0", "mae_lambda", "mae_difference", "relative_change", "seeds_improved")
                     if k in comp["all"]})
        result["comparisons"].append(comp)
    write_json(out_json, result)
    _plot(result, Path(out_png))
    return result


def _relative(v: np.ndarray) -> float:
    """(MAE_lambda - MAE_0) / MAE_0 of an ``[events, 2, seeds]`` array."""
    m0 = float(np.mean(v[:, 0]))
    return float(np.mean(v[:, 1]) - m0) / m0 if m0 > 0 else float("nan")


def _plot(result: dict[str, Any], path: Path) -> None:
    from quakesar.learning.plots import plt, save_figure

    comps = result["comparisons"]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    for c in comps:
        s = c["seeds"]
        m0 = [c["mae_lambda0"]["per_seed"][str(k)] for k in s]
        m1 = [c["mae_lambda"]["per_seed"][str(k)] for k in s]
        for k, a, b in zip(s, m0, m1):
            ax[0].plot([0, c["lambda"]], [a, b], "o-", color="0.5", lw=0.8)
            ax[0].annotate(f"seed {k}", (c["lambda"], b), fontsize=7)
    ax[0].set_xlabel("ranking lambda")
    ax[0].set_ylabel("event magnitude MAE")
    lams = [c["lambda"] for c in comps]
    d = [c["mae_difference"]["value"] for c in comps]
    lo = [c["mae_difference"]["value"] - c["mae_difference"]["ci_low"] for c in comps]
    hi = [c["mae_difference"]["ci_high"] - c["mae_difference"]["value"] for c in comps]
    ax[1].errorbar(range(len(lams)), d, yerr=[lo, hi], fmt="o", capsize=4)
    ax[1].axhline(0.0, color="k", lw=0.8, ls="--")
    ax[1].set_xticks(range(len(lams)), [f"lambda={x:g}" for x in lams])
    ax[1].set_ylabel("MAE(lambda) - MAE(0), 95% CI")
    fig.suptitle(f"ranking ablation, {result['model']}")
    save_figure(fig, path)
