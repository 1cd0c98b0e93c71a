"""A markdown fragment of a time-series evaluation for the project report.

Call ``summary_markdown("results/timeseries/evaluate/metrics.json")`` (the JSON of
:func:`quakesar.timeseries.evaluate.evaluate`) and insert the returned text into the report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_DETECTORS = (("autoencoder", "auto-encoder score"), ("autoencoder_map", "auto-encoder map peak"),
              ("stack", "plain stack (true date)"), ("stack_blind", "date-blind stack"), ("pair", "single pair (true date)"))


def _mm(v: float | None) -> str:
    return "not reached" if v is None else f"{1e3 * v:.1f}"


def _mw(v: float | None) -> str:
    return "not reached" if v is None else f"{v:.1f}"


def summary_markdown(eval_json_path: str | Path) -> str:
    """Markdown: detection limits vs noise, denoising RMSE vs baselines, detectable magnitudes."""
    path = Path(eval_json_path)
    try:
        r: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the time-series evaluation JSON ({exc})") from None
    for key in ("detection", "denoising", "magnitude", "settings"):
        if key not in r:
            raise ValueError(f"{path}: field {key!r} missing (not a timeseries evaluate output)")
    s = r["settings"]
    ev = r.get("evaluate", {})
    present = [(k, name) for k, name in _DETECTORS if k in r["detection"][0]["detectors"]]
    lines = ["## InSAR time series (auto-encoder)", "",
             f"Synthetic series of {s['n_dates']} dates every {s['revisit_days']:g} days, {s['size']}x{s['size']} tiles "
             f"of {s['spacing_m']:g} m. Detection limit: smallest peak LOS (mm) detected in >= "
             f"{100 * ev.get('detection_rate', 0.9):.0f} % of coseismic series at a false-alarm rate <= "
             f"{100 * ev.get('false_alarm', 0.05):.0f} % on negatives (interpolated 90 % crossing).", "",
             "| pair turbulence std (mm) | " + " | ".join(name for _, name in present) + " |",
             "|---|" + "---|" * len(present)]
    for row in r["detection"]:
        lines.append(f"| {1e3 * row['noise_std_m']:.0f} | "
                     + " | ".join(_mm(row["detectors"][k]["limit_interpolated_m"]) for k, _ in present) + " |")
    d = r["denoising"]
    lines += ["", f"Denoising RMSE of the cumulative deformation map ({d['samples']} signal-bearing series, pair turbulence "
              f"std {1e3 * d['noise_std_m']:.0f} mm): auto-encoder **{d['rmse_mm']['autoencoder']:.2f} mm**, best single "
              f"pair {d['rmse_mm']['best_pair']:.2f} mm, plain stack {d['rmse_mm']['stack']:.2f} mm"
              + (f", date-blind stack {d['rmse_mm']['stack_blind']:.2f} mm" if "stack_blind" in d["rmse_mm"] else "") + ".", ""]
    m = r["magnitude"]
    lines += [f"Shallow events (catalog depths <= {m['depths']['max_depth_km']:g} km, {m['depths']['catalog_events']} events, "
              f"median {m['depths']['median_km']:.1f} km) at pair turbulence std {1e3 * m['noise_std_m']:.0f} mm: "
              "smallest Mw at which half (90 %) of them are detectable:", "",
              "| detector | limit (mm) | Mw 50 % | Mw 90 % |", "|---|---|---|---|"]
    for name, limit in m["limits_m"].items():
        lines.append(f"| {name.replace('_', ' ')} | {_mm(limit)} | {_mw(m['mw_50'].get(name))} | {_mw(m['mw_90'].get(name))} |")
    return "\n".join(lines) + "\n"
