"""The SNAP backend's entry point: one event's pair, one subswath -> canonical interferogram HDF5.

Called by the ``interferogram`` rule's dispatcher when ``interferogram.backend: snap``:
pairs file -> burst ranges (:mod:`.bursts`) -> GPT graph (:mod:`.graph`) -> ``gpt``
(:mod:`.runner`) -> BEAM-DIMAP -> canonical HDF5 (:mod:`.convert`) -> quicklook.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from quakesar.atomic import write_text
from quakesar.interferogram.canonical import write_interferogram
from quakesar.interferogram.snap.bursts import burst_range
from quakesar.interferogram.snap.convert import dimap_to_interferogram
from quakesar.interferogram.snap.graph import build_nodes, write_graph
from quakesar.interferogram.snap.orbits import install_orbits, orbit_kind
from quakesar.interferogram.snap.runner import GptError, find_gpt, log_tail, operator_parameters, run_gpt


QUICKLOOK_MAX_SIDE = 4000


def load_pair(pairs_json: str | Path) -> dict[str, Any]:
    """The chosen pair (first of ``pairs``) of a pairs file; clear error when the event has none."""
    pairs_json = Path(pairs_json)
    try:
        doc = json.loads(pairs_json.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{pairs_json}: not valid JSON ({exc})") from None
    if doc.get("status") != "ok" or not doc.get("pairs"):
        raise ValueError(f"{pairs_json}: no usable pair (status {doc.get('status')!r}, reason {doc.get('reason')!r})")
    pair = doc["pairs"][0]
    for key in ("reference", "secondary"):
        if not isinstance(pair.get(key), dict):
            raise ValueError(f"{pairs_json}: pairs[0].{key} missing or not an object")
    return pair


def polarisation_of(pair: dict[str, Any]) -> str:
    """VV when the pair has it (the chain's polarisation), else the first co-polarisation listed."""
    pol = str(pair.get("polarisation", "VV")).upper()
    if "VV" in pol or not pol:
        return "VV"
    for cand in ("HH", "VH", "HV"):
        if cand in pol:
            return cand
    raise ValueError(f"pair polarisation {pol!r}: expected VV, HH, VH or HV")


def _remove_product(dim: Path) -> None:
    """Delete a stale DIMAP (``.dim`` + ``.data/``) so SNAP writes afresh instead of updating it."""
    dim.unlink(missing_ok=True)
    shutil.rmtree(dim.with_suffix(".data"), ignore_errors=True)


def process_pair(pairs_json: Path, event: dict, subswath: str, slc_paths: list[Path], out_h5: Path, cfg: dict,
                 workdir: Path, log_path: Path, quicklook_png: Path | None = None,
                 orbit_manifests: list[Path] | None = None) -> None:
    """Run the SNAP chain for one event and subswath and write the canonical interferogram ``out_h5``.

    ``cfg`` is the whole ``interferogram`` config section; ``slc_paths`` = [reference, secondary]
    SLC zips (or SAFE directories). The graph, SNAP's DIMAP output and gpt's log stay in
    ``workdir``; ``log_path`` gets a summary (written also when a step fails).
    ``orbit_manifests``: orbit files fetched ahead (``download.orbits``), copied into SNAP's own
    orbit folder under ``interferogram.snap.auxdata_dir`` before gpt runs
    (:mod:`quakesar.interferogram.snap.orbits`).
    """
    if len(slc_paths) != 2:
        raise ValueError(f"slc_paths: expected [reference, secondary], got {len(slc_paths)} paths")
    reference, secondary = (Path(p) for p in slc_paths)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    snap = dict(cfg.get("snap") or {})
    lines = [f"event {event.get('id')} subswath {subswath}: SNAP backend",
             f"reference {reference}", f"secondary {secondary}"]
    t0 = time.monotonic()
    try:
        pair = load_pair(pairs_json)
        pol = polarisation_of(pair)
        bursts = None
        if snap.get("bursts", "epicentre") == "epicentre":
            ids = (pair.get("bursts") or {}).get(subswath)
            if not ids:
                raise ValueError(f"{pairs_json}: pairs[0].bursts has no burst ids for {subswath} "
                                 "(set interferogram.snap.bursts: all to process the whole subswath)")
            bursts = (burst_range(reference, subswath, ids, pol), burst_range(secondary, subswath, ids, pol))
            lines.append(f"bursts {list(ids)} -> reference {bursts[0].first}..{bursts[0].last}, "
                         f"secondary {bursts[1].first}..{bursts[1].last}")
        gpt = find_gpt(str(snap.get("gpt", "gpt")))  # a missing gpt stops here, before any work
        if orbit_manifests:
            placed = install_orbits(list(orbit_manifests), snap.get("auxdata_dir"))
            lines.append(f"orbit files for SNAP: {', '.join(sorted({str(p) for p in placed}))}")
            if orbit_kind(str(snap.get("orbit_type", "Sentinel Precise (Auto Download)"))) != "POEORB":
                lines.append("note: pre-fetched orbits are precise (POEORB) but interferogram.snap.orbit_type "
                             "asks for restituted ones; SNAP will not use them")
        installed: dict[str, set[str]] = {}
        if (cfg.get("goldstein") or {}).get("enabled", True):
            installed["GoldsteinPhaseFiltering"] = operator_parameters(gpt, "GoldsteinPhaseFiltering")
            if "useAdaptiveAlpha" in installed["GoldsteinPhaseFiltering"]:
                lines.append("installed SNAP has adaptive Goldstein alpha: useAdaptiveAlpha=false keeps the configured alpha")
        stem = f"{event.get('id', 'event')}_{subswath}"
        dim = workdir / f"{stem}.dim"
        nodes = build_nodes(reference, secondary, dim, subswath, cfg, pol, bursts, installed)
        graph_path = write_graph(workdir / f"{stem}_graph.xml", nodes)
        lines.append(f"graph {graph_path}")
        _remove_product(dim)
        gpt_log = workdir / f"{stem}.gpt.log"
        lines.append(f"gpt log {gpt_log}")
        result = run_gpt(graph_path, gpt_log, gpt=gpt, cache=str(snap.get("cache", "8G")),
                         parallelism=int(snap.get("parallelism", 4)),
                         timeout_minutes=float(snap.get("timeout_minutes", 720)))
        lines.append(f"gpt finished in {result.seconds:.1f} s: {' '.join(result.command)}")
        if not dim.is_file():
            raise GptError(f"gpt exited 0 but wrote no {dim}; log {gpt_log}:\n{log_tail(gpt_log)}")
        backend_parameters = {
            "graph": {n.id: {"operator": n.operator, **{k: str(v) for k, v in n.parameters.items()}} for n in nodes},
            "gpt_command": [str(c) for c in result.command],
            "snap": snap,
        }
        ifg = dimap_to_interferogram(dim, event, pair, subswath, backend_parameters, pol)
        write_interferogram(out_h5, ifg)
        lines.append(f"wrote {out_h5}: {ifg.shape[0]} x {ifg.shape[1]} pixels, "
                     f"valid {float(np.mean(ifg.optional['valid'])):.3f}")
        if quicklook_png is not None:
            from quakesar.quicklook import save_quicklook

            step = max(1, -(-max(ifg.shape) // QUICKLOOK_MAX_SIDE))  # strided view: no full-size complex copy
            view = (slice(None, None, step), slice(None, None, step))
            z = np.empty(ifg.i[view].shape, dtype=np.complex64)
            z.real, z.imag = ifg.i[view], ifg.q[view]
            save_quicklook(quicklook_png, {"phase": z, "coherence": ifg.coherence[view]},
                           title=f"{event.get('id')} {subswath} (SNAP)")
            lines.append(f"quicklook {quicklook_png}")
    except Exception as exc:
        lines.append(f"FAILED after {time.monotonic() - t0:.1f} s: {type(exc).__name__}: {exc}")
        write_text(log_path, "\n".join(lines) + "\n")
        raise
    lines.append(f"done in {time.monotonic() - t0:.1f} s")
    write_text(log_path, "\n".join(lines) + "\n")
