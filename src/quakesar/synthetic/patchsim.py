"""Patch-level simulator: an event's ML patches straight from the simulator's physics, without SLCs.

The full pipeline (simulate -> native interferogram -> patches) spends almost all of its time on
speckle: it draws two band-limited SLCs per subswath, coregisters them, forms, filters and
multilooks the interferogram, and then area-averages windows of thousands of pixels down to a
``size x size`` patch. At the patch's pixel spacing (about 0.9 km at the default reduction 8) the
speckle has averaged into a small complex Gaussian noise of known variance, so the patches can be
drawn directly from the same physics at a tiny fraction of the cost (issue 12: >= 10,000 training
events in <= 30 min on 2 cores; measured in ``benchmarks/trainingset_scaling.py``).

Shared with the full simulator (:mod:`quakesar.synthetic.scene`): the pair plan
(:func:`~quakesar.synthetic.scene.plan_pair`: fault, pass, frame, dates, baseline, DEM, turbulent +
stratified + orbital delay, land cover, temporal coherence; its ground fields on a coarser grid,
``ground_spacing_m``), the subswath radar grids and tie-point geolocation, the multilook and window
layout of the interferogram and patch stages, and the label and metadata code of the patch stage
(:mod:`quakesar.patches.tiling`). What replaces the SLC chain, per patch pixel of a window:

* the pixel is sampled at ``supersample x supersample`` points; at each, the Okada LOS displacement
  ``d``, the differential delay ``a`` and the coherence ``gamma = gamma_temporal * gamma_thermal *
  gamma_geometric`` (:mod:`quakesar.synthetic.decorrelation`, 0 over water);
* interferometric phase ``phi = -4 pi (d - a) / lambda`` (:func:`quakesar.convention.los_to_phase`;
  the flat-earth and topographic phases are removed exactly by the processor, so they are absent);
* the expected multilooked interferogram of unit-power SLCs is ``gamma * L(grad phi, D) * exp(i phi)``
  with ``L(k, D) = |sinc(k_g D_g / 2 pi) sinc(k_s D_s / 2 pi)|`` the coherence loss of a linear phase
  ramp over a box of ground size ``D`` (the sub-sample), and the patch pixel is the mean over its
  sub-samples (so dense fringes cancel as they do when a window is area-averaged);
* plus circular complex Gaussian noise of variance ``1 / L_eff`` with
  ``L_eff = looks_az * looks_rg * (window / size)^2 / (o_rg o_az)`` independent looks (``o``: the
  speckle's oversampling), since ``Var(z1 conj(z2)) = 1`` for unit-power jointly Gaussian SLCs;
* coherence channel: the boxcar estimator's expectation ``sqrt(g^2 + (1 - g^2)^2 / N_eff)``
  (Touzi et al. 1999, first order in ``1/N``) with ``g = gamma * L(grad phi, D_coh)`` over the
  ``coherence_window`` box and ``N_eff`` its independent samples, area-averaged over the pixel.

Not modelled (what the gap benchmark ``benchmarks/patchsim_gap.py`` measures against the full
pipeline): Goldstein filtering, coregistration residuals, the speckle amplitude (only the phase and
the coherence are meant to be used: the learning stage feeds ``i, q`` as a unit phasor), and the
sub-sample peak of ``|d|`` as the window's peak (the full pipeline takes it at interferogram pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from quakesar import convention
from quakesar.interferogram.native.multilook import multilooked_grid
from quakesar.patches.geometry import footprint_bbox, window_geometry
from quakesar.patches.tiling import (DROP_REASON_VALID, add_event_columns, add_learning_columns, add_source_columns,
                                     window_starts)
from quakesar.rng import event_rng
from quakesar.synthetic import decorrelation, s1geometry
from quakesar.synthetic.scene import PairPlan, plan_pair, subswath_tiepoints
from quakesar.tiepoints import TiePointGrid

#: channels this simulator can produce (the learning stage uses coherence, i, q)
CHANNELS = ("coherence", "i", "q", "phase")
#: far-field cut-off of the Okada evaluation, in units of the source's largest dimension (L, W, depth):
#: the surface displacement decays at least as (size / r)^3 beyond it (< 0.5 % of the peak at 6 sizes)
FAR_FIELD_SIZES = 6.0
MIN_FAR_FIELD_M = 40_000.0

__all__ = ["PatchLayout", "simulate_patches", "DROP_REASON_VALID"]


@dataclass(frozen=True)
class PatchLayout:
    """The interferogram and patch stages' geometry the simulated patches must reproduce."""

    looks_azimuth: int
    looks_range: int
    coherence_window_azimuth: int
    coherence_window_range: int
    window: int
    stride: int
    size: int
    channels: tuple[str, ...]

    @classmethod
    def from_config(cls, interferogram: Mapping[str, Any], patches: Mapping[str, Any]) -> "PatchLayout":
        """From the (default-filled) ``interferogram`` and ``patches`` config sections."""
        channels = tuple(patches.get("channels", ("coherence", "i", "q")))
        bad = [c for c in channels if c not in CHANNELS]
        if bad:
            raise ValueError(f"patches.channels: the patch-level simulator makes {list(CHANNELS)}, not {bad}")
        window = int(patches["window"])
        stride = int(patches.get("stride") or window)
        return cls(int(interferogram["multilook"]["azimuth"]), int(interferogram["multilook"]["range"]),
                   int(interferogram["coherence_window"]["azimuth"]), int(interferogram["coherence_window"]["range"]),
                   window, stride, int(patches["size"]), channels)


def _fringe_loss(k_s: np.ndarray, k_g: np.ndarray, d_s: float, d_g: np.ndarray) -> np.ndarray:
    """Coherence of ``exp(i phi)`` averaged over a ``d_s x d_g`` box in which phi is a linear ramp of
    gradient (k_s, k_g) rad/m: ``|sinc(k_s d_s / 2 pi) sinc(k_g d_g / 2 pi)|`` (numpy's normalised sinc)."""
    return np.abs(np.sinc(k_s * d_s / (2.0 * np.pi)) * np.sinc(k_g * d_g / (2.0 * np.pi)))


def default_ground_spacing_m(plan_reduction: int, layout: PatchLayout, supersample: int) -> float:
    """Ground-field spacing matching the sub-sample spacing (azimuth; the finer axis at ~39 deg)."""
    grid = s1geometry.SubswathGrid.build("IW1", plan_reduction)
    return max(90.0, layout.window * layout.looks_azimuth * grid.azimuth_spacing_m / (layout.size * supersample))


def simulate_patches(event: Mapping[str, Any], sim_cfg: Mapping[str, Any], layout: PatchLayout, seed: int, *,
                     supersample: int = 2, ground_spacing_m: float | None = None,
                     plan: PairPlan | None = None) -> tuple[np.ndarray, list[dict[str, Any]], dict[str, Any]]:
    """All patches of one event's configured subswaths: ``(pixels [N, C, size, size] float32, CSV rows, info)``.

    The rows carry the patch stage's columns (:data:`quakesar.patches.tiling.COLUMNS` and the extra
    and learning columns), with geometry from the subswath's own tie-point geolocation. ``plan``
    (tests, the gap benchmark) reuses a pair plan; otherwise it is drawn with ground fields at
    ``ground_spacing_m`` (default: the sub-sample spacing).
    """
    if supersample < 1:
        raise ValueError(f"patch simulator: supersample must be >= 1, got {supersample}")
    source = f"event record {event.get('id', '?')}"
    if plan is None:
        red = 1 if sim_cfg.get("mode") == "full" else int(sim_cfg.get("reduction", 8))
        spacing = ground_spacing_m or default_ground_spacing_m(red, layout, supersample)
        plan = plan_pair(event, sim_cfg, seed, source, ground_spacing_m=spacing)
    fault = plan.fault
    size_m = max(fault.length_m, fault.width_m, fault.centroid_depth_m, 1.0)
    far_field = max(MIN_FAR_FIELD_M, FAR_FIELD_SIZES * size_m + 0.5 * fault.length_m)
    noise_rng = event_rng(seed, plan.event_id, "patchsim/noise")
    blocks: list[np.ndarray] = []
    rows: list[dict[str, Any]] = []
    n_okada = 0
    for iw in plan.cfg["subswaths"]:
        pix, sub_rows, n = _subswath_patches(plan, iw, layout, supersample, far_field, noise_rng, len(rows))
        blocks.append(pix)
        rows.extend(sub_rows)
        n_okada += n
    add_event_columns(rows, dict(event))
    add_learning_columns(rows)
    pixels = np.concatenate(blocks) if blocks else np.zeros((0, len(layout.channels), layout.size, layout.size), np.float32)
    info = {"event_id": plan.event_id, "scene_id": plan.scene_id, "patches": len(rows), "okada_points": n_okada,
            "flight_direction": plan.flight_direction, "turbulence_std_m": plan.atmosphere.turbulence_std_m,
            "peak_abs_los_m": max((r["peak_abs_los_m"] for r in rows), default=0.0)}
    return pixels, rows, info


def _subswath_patches(plan: PairPlan, iw: str, layout: PatchLayout, ss: int, far_field_m: float,
                      rng: np.random.Generator, first_index: int) -> tuple[np.ndarray, list[dict[str, Any]], int]:
    grid = plan.grids[iw]
    la, lr = layout.looks_azimuth, layout.looks_range
    ny, nx = grid.lines // la, grid.samples // lr
    w, size = layout.window, layout.size
    row_starts, col_starts = window_starts(ny, w, layout.stride), window_starts(nx, w, layout.stride)
    tr, tc, tie = subswath_tiepoints(plan, iw)
    lat = multilooked_grid(TiePointGrid(tr, tc, tie["latitude"]), la, lr)
    lon = multilooked_grid(TiePointGrid(tr, tc, tie["longitude"], is_longitude=True), la, lr)
    inc_grid = multilooked_grid(TiePointGrid(tr, tc, tie["incidence"]), la, lr)
    m = size * ss
    # sub-sample centres within a window, in interferogram pixel units relative to its first pixel
    t = (np.arange(m) + 0.5) * (w / m) - 0.5
    d_sub_s = (w / m) * la * grid.azimuth_spacing_m            # ground size of a sub-sample, azimuth
    coh_s = layout.coherence_window_azimuth * grid.azimuth_spacing_m
    looks = la * lr * (w / size) ** 2 / (grid.range_oversampling * s1geometry.AZIMUTH_OVERSAMPLING)
    n_coh = max(1.0, layout.coherence_window_azimuth * layout.coherence_window_range
                / (grid.range_oversampling * s1geometry.AZIMUTH_OVERSAMPLING))
    heading = plan.frame.heading_deg
    centroid = (plan.fault.centroid_east_m, plan.fault.centroid_north_m)
    out = np.empty((len(row_starts) * len(col_starts), len(layout.channels), size, size), np.float32)
    meta: list[dict[str, Any]] = []
    n_okada = 0
    k = 0
    if len(col_starts):
        cols = (col_starts[:, None] + t[None, :]).ravel()          # every window of a window row, side by side
        g = grid.ground_range(cols * lr + (lr - 1) / 2.0)
        inc = s1geometry.incidence_from_ground(g)
        sin_inc = np.sin(np.radians(inc))
        d_sub_g = (w / m) * lr * grid.range_spacing_m / sin_inc
        coh_g = layout.coherence_window_range * grid.range_spacing_m / sin_inc
        crit = decorrelation.critical_baseline_m(grid.slant_range(cols * lr + (lr - 1) / 2.0), inc, grid.range_bandwidth_hz)
    for r0 in row_starts:
        if not len(col_starts):
            break
        s = grid.along_track((r0 + t) * la + (la - 1) / 2.0)
        east, north = plan.frame.east_north(s[:, None], g[None, :])
        near = np.hypot(east - centroid[0], north - centroid[1]) <= far_field_m
        los = np.zeros(east.shape)
        if near.any():
            ue, un, uu = plan.fault.displacement_enu(east[near], north[near])
            los[near] = convention.enu_to_los(ue, un, uu, np.broadcast_to(inc[None, :], east.shape)[near], heading)
            n_okada += int(near.sum())
        delay = plan.delay.sample(s, g).astype(np.float64)
        phase = convention.los_to_phase(los - delay)
        gamma = plan.gamma_temporal.sample(s, g).astype(np.float64)
        gamma *= decorrelation.thermal_coherence(plan.sigma0.sample(s, g))
        gamma *= decorrelation.geometric_coherence(plan.bperp(s[:, None], g[None, :]), crit[None, :])
        np.clip(gamma, 0.0, 1.0, out=gamma)
        k_s = np.gradient(phase, s, axis=0)
        k_g = np.empty_like(phase)
        for j in range(len(col_starts)):                          # gradients within each window only
            sl = slice(j * m, (j + 1) * m)
            k_g[:, sl] = np.gradient(phase[:, sl], g[sl], axis=1)
        z_sub = gamma * _fringe_loss(k_s, k_g, d_sub_s, d_sub_g[None, :]) * np.exp(1j * phase)
        g_est = gamma * _fringe_loss(k_s, k_g, coh_s, coh_g[None, :])
        coh_sub = np.sqrt(g_est * g_est + (1.0 - g_est * g_est) ** 2 / n_coh)
        nw = len(col_starts)
        # [m, nw*m] -> [nw, size, ss, size, ss] -> mean over the sub-samples
        z = z_sub.reshape(size, ss, nw, size, ss).mean(axis=(1, 4)).transpose(1, 0, 2)
        coh = coh_sub.reshape(size, ss, nw, size, ss).mean(axis=(1, 4)).transpose(1, 0, 2)
        noise = (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape)) * math.sqrt(0.5 / looks)
        z = z + noise
        peaks = np.abs(los).reshape(m, nw, m).max(axis=(0, 2))
        for j, c0 in enumerate(col_starts):
            chans = {"coherence": coh[j], "i": z[j].real, "q": z[j].imag, "phase": np.angle(z[j])}
            out[k] = np.stack([chans[c] for c in layout.channels])
            threshold = float(plan.cfg["detectability_threshold_m"])
            meta.append({"h5_index": first_index + k, "row0": int(r0), "col0": int(c0), "row1": int(r0) + w,
                         "col1": int(c0) + w, "valid_fraction": 1.0, "peak_abs_los_m": float(peaks[j]),
                         "deformation": int(peaks[j] >= threshold), "label_threshold_m": threshold})
            k += 1
    geom = window_geometry(lat, lon, [r["row0"] for r in meta], [r["col0"] for r in meta],
                           [r["row1"] for r in meta], [r["col1"] for r in meta])
    south, north_, west, east_ = footprint_bbox(lat, lon, ny, nx)
    source = {"scene_id": plan.scene_id, "subswath": iw, "flight_direction": plan.flight_direction,
              "heading_deg": float(plan.frame.heading_deg), "track": int(plan.track),
              "reference_time": _iso(plan.reference_time), "secondary_time": _iso(plan.secondary_time),
              "footprint": {"south": south, "north": north_, "west": west, "east": east_}}
    add_source_columns(meta, geom, source, iw, inc_grid, float(plan.atmosphere.turbulence_std_m))
    return out[:k], meta, n_okada


def _iso(t: Any) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
