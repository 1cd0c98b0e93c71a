"""Figures of a time-series evaluation: detection curves per noise level and an example tile."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from quakesar.atomic import atomic_path


def detection_figure(eval_json: str | Path, out_png: str | Path) -> Path:
    """Detection rate vs peak LOS for each detector, one panel per noise level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = json.loads(Path(eval_json).read_text(encoding="utf-8"))
    rows = r["detection"]
    fig, axes = plt.subplots(1, len(rows), figsize=(4 * len(rows), 3.4), squeeze=False, sharey=True)
    for ax, row in zip(axes[0], rows):
        peaks = 1e3 * np.asarray(row["peaks_m"])
        for name, det in row["detectors"].items():
            ax.semilogx(peaks, det["rates"], marker="o", label=name)
        ax.axhline(r["evaluate"]["detection_rate"], color="k", lw=0.6, ls="--")
        ax.set_title(f"pair turbulence std {1e3 * row['noise_std_m']:.0f} mm")
        ax.set_xlabel("peak LOS (mm)")
    axes[0][0].set_ylabel(f"detected at FAR {100 * r['evaluate']['false_alarm']:.0f} %")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    out = Path(out_png)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out


def example_figure(checkpoint: str | Path, out_png: str | Path, seed: int, peak_m: float = 0.005,
                   turbulence_std_m: float = 0.01) -> Path:
    """One coseismic series: last-date map, plain stack, auto-encoder output and truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from quakesar.timeseries.baselines import event_masks, stack_mean
    from quakesar.timeseries.dataset import arrays_from_samples
    from quakesar.timeseries.evaluate import predict_arrays
    from quakesar.timeseries.settings import SeriesSettings
    from quakesar.timeseries.simulate import simulate_sample
    from quakesar.timeseries.tensors import referenced
    from quakesar.timeseries.train import load_checkpoint

    net, ckpt = load_checkpoint(checkpoint)
    s = SeriesSettings.from_config(ckpt["settings"])
    data = arrays_from_samples([simulate_sample("example-000000", s, seed, kind="coseismic", peak_m=peak_m,
                                                turbulence_std_m=turbulence_std_m)], s)
    pred, score = predict_arrays(net, data.series, data.dem)
    pre, post = event_masks(data.time_function, data.truth["event_index"])
    panels = [("last date", referenced(data.series[0, -1])), ("plain stack", stack_mean(data.series, pre, post)[0]),
              (f"auto-encoder (score {score[0]:.2f})", pred[0]), ("truth", referenced(data.cumulative[0]))]
    vmax = 1e3 * max(float(np.abs(p).max()) for _, p in panels[1:])
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    for ax, (title, img) in zip(axes, panels):
        im = ax.imshow(1e3 * img, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="LOS (mm)")
    out = Path(out_png)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return out
