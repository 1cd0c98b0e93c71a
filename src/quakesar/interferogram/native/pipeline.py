"""Native backend entry point: synthetic scene HDF5 -> canonical interferogram HDF5 (+ quicklook PNG).

Chain (docs/interferogram-native.md; SNAP's Back-Geocoding -> Interferogram -> TopoPhaseRemoval ->
Multilook -> GoldsteinPhaseFiltering, physics-reference section 5):

1. constant offset of the secondary from amplitude cross-correlation (:mod:`.coregister`);
2. per block of ``block_lines`` lines (+ halo): FFT resampling of the secondary, ``z = ref *
   conj(sec)`` (:mod:`quakesar.convention`), removal of the flat-earth + topographic phase
   (:mod:`.reference_phase`), boxcar coherence at full resolution (:mod:`.coherence`), multilooking of
   ``z``, coherence and the truth LOS (:mod:`.multilook`);
3. on the multilooked grid: Goldstein filter (:mod:`.goldstein`), optional unwrapping and LOS
   displacement (:mod:`.unwrap`);
4. canonical HDF5 via :func:`quakesar.interferogram.canonical.write_interferogram`, quicklook PNG.

Only one block of full-resolution lines is in memory at a time; the multilooked rasters (a few
hundred MB for a full subswath at 4 x 1 looks) are held whole.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from quakesar.config import fill_defaults, load_schema
from quakesar.convention import phase_to_los
from quakesar.h5io import open_h5
from quakesar.interferogram.canonical import Interferogram, base_attrs, write_interferogram
from quakesar.interferogram.native.coherence import coherence as boxcar_coherence
from quakesar.interferogram.native.coregister import OffsetEstimate, estimate_offset, resample_rows
from quakesar.interferogram.native.goldstein import goldstein
from quakesar.interferogram.native.multilook import multilook, multilooked_grid, multilooked_shape
from quakesar.interferogram.native.profiling import StepProfiler, maybe_step
from quakesar.interferogram.native.reference_phase import flatten, reference_phase
from quakesar.interferogram.native.scene import Scene, open_scene
from quakesar.interferogram.native.unwrap import reference_far_field, unwrap_phase
from quakesar.tiepoints import TiePointGrid

log = logging.getLogger(__name__)

BACKEND = "native"


def interferogram_config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """The ``interferogram`` config section with every schema default filled in."""
    schema = load_schema()["properties"]["interferogram"]
    return fill_defaults(cfg or {}, schema)


def check_config(cfg: dict[str, Any], source: str = "interferogram") -> None:
    """Reject values the native backend cannot honour before any work is done (names the key)."""
    problems = []
    if cfg["unwrap"] not in ("none", "skimage", "snaphu"):
        problems.append(f"{source}.unwrap: {cfg['unwrap']!r} is not one of none, skimage, snaphu")
    g = cfg["goldstein"]
    if int(g["fft_size"]) % 4 or int(g["fft_size"]) < 8:
        problems.append(f"{source}.goldstein.fft_size: {g['fft_size']} must be a multiple of 4 and >= 8")
    if int(g["window"]) % 2 == 0 or int(g["window"]) < 1:
        problems.append(f"{source}.goldstein.window: {g['window']} must be odd and positive")
    if not 0.0 < float(g["alpha"]) <= 1.0:
        problems.append(f"{source}.goldstein.alpha: {g['alpha']} must be in (0, 1] (SNAP's interval)")
    for key in ("multilook", "coherence_window"):
        for axis in ("range", "azimuth"):
            if int(cfg[key][axis]) < 1:
                problems.append(f"{source}.{key}.{axis}: {cfg[key][axis]} must be >= 1")
    if problems:
        raise ValueError("; ".join(problems))


def grid_rows(grid: TiePointGrid, r0: int, r1: int, ncols: int) -> np.ndarray:
    """A tie-point grid's values on lines ``[r0, r1)`` x all ``ncols`` samples (float32)."""
    return grid.raster(slice(r0, r1), slice(0, ncols), dtype=np.float32)


def _block_products(scene: Scene, offset: OffsetEstimate, e0: int, e1: int, range_origin_m: float,
                    profiler: StepProfiler | None, fft_workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flattened interferogram and the two SLC powers on lines ``[e0, e1)`` (full resolution)."""
    ncols = scene.shape[1]
    with maybe_step(profiler, "read"):
        ref = np.asarray(scene.reference[e0:e1], dtype=np.complex64)
    with maybe_step(profiler, "resample"):
        sec = resample_rows(scene.secondary, e0, e1, offset.rows, offset.cols, workers=fft_workers)
    with maybe_step(profiler, "reference_phase"):
        height = np.asarray(scene.height[e0:e1], dtype=np.float32)
        inc = grid_rows(scene.incidence, e0, e1, ncols)
        bperp = grid_rows(scene.bperp, e0, e1, ncols)
        phi = reference_phase(scene.slant_range_m[None, :], inc, height, bperp, scene.wavelength_m, range_origin_m)
        del inc, bperp, height
    with maybe_step(profiler, "interferogram"):
        p1 = ref.real * ref.real + ref.imag * ref.imag
        p2 = sec.real * sec.real + sec.imag * sec.imag
        np.conjugate(sec, out=sec)
        sec *= ref  # z = reference * conj(secondary)
        z = flatten(sec, phi)
    return z, p1, p2


def _form_multilooked(scene: Scene, offset: OffsetEstimate, cfg: dict[str, Any], range_origin_m: float,
                      profiler: StepProfiler | None, threads: int) -> dict[str, np.ndarray]:
    """Block loop: multilooked complex interferogram, coherence and (if present) truth LOS.

    Blocks write disjoint rows of the multilooked rasters, so ``threads`` blocks run concurrently
    (numpy, scipy.fft and h5py release the GIL or serialise safely); memory grows by one block per thread.
    """
    la, lr = int(cfg["multilook"]["azimuth"]), int(cfg["multilook"]["range"])
    caz, crg = int(cfg["coherence_window"]["azimuth"]), int(cfg["coherence_window"]["range"])
    nrows, ncols = scene.shape
    ny, nx = multilooked_shape(scene.shape, la, lr)
    if ny < 1 or nx < 1:
        raise ValueError(f"{scene.path}: scene {scene.shape} is smaller than one {la}x{lr} look")
    block = max(la, (int(cfg["block_lines"]) // la) * la)
    top, bottom = caz // 2, caz - 1 - caz // 2
    out = {"z": np.empty((ny, nx), np.complex64), "coherence": np.empty((ny, nx), np.float32)}
    truth = scene.truth_los
    if truth is not None:
        out["truth"] = np.empty((ny, nx), np.float32)
    fft_workers = 2 if threads <= 1 else 1

    def run_block(r0: int) -> None:
        r1 = min(r0 + block, ny * la)
        e0, e1 = max(r0 - top, 0), min(r1 + bottom, nrows)
        z, p1, p2 = _block_products(scene, offset, e0, e1, range_origin_m, profiler, fft_workers)
        with maybe_step(profiler, "coherence"):
            coh = boxcar_coherence(z, p1, p2, caz, crg)
        del p1, p2
        with maybe_step(profiler, "multilook"):
            k0, k1 = r0 // la, r1 // la
            out["z"][k0:k1] = multilook(z[r0 - e0:r1 - e0], la, lr)
            out["coherence"][k0:k1] = multilook(coh[r0 - e0:r1 - e0], la, lr)
            if truth is not None:
                with maybe_step(profiler, "read"):
                    t = np.asarray(truth[r0:r1], dtype=np.float32)
                out["truth"][k0:k1] = multilook(t, la, lr)
        log.info("%s: lines %d-%d of %d done", scene.path.name, r0, r1, ny * la)

    starts = list(range(0, ny * la, block))
    if threads <= 1:
        for r0 in starts:
            run_block(r0)
    else:
        with ThreadPoolExecutor(max_workers=threads) as ex:
            list(ex.map(run_block, starts))
    return out


def process_scene(scene_h5: Path, out_h5: Path, cfg: dict[str, Any] | None, quicklook_png: Path | None = None,
                  profiler: StepProfiler | None = None, threads: int = 2) -> None:
    """Process one synthetic scene pair into the canonical interferogram ``out_h5`` (and ``quicklook_png``).

    ``cfg`` is the ``interferogram`` config section (missing keys take the schema defaults).
    ``profiler`` (optional) collects per-step time (summed over threads) and peak RSS (benchmarks).
    ``threads``: line blocks and Goldstein strips processed concurrently (the rule's ``threads: 2``);
    the result does not depend on it.
    """
    cfg = interferogram_config(cfg)
    check_config(cfg)
    gcfg = cfg["goldstein"]
    la, lr = int(cfg["multilook"]["azimuth"]), int(cfg["multilook"]["range"])
    with open_scene(scene_h5) as scene:
        a = scene.attrs
        with maybe_step(profiler, "coregistration_offset"):
            try:
                offset = estimate_offset(scene.reference, scene.secondary)
                coreg_status = "measured"
            except ValueError as exc:
                # No common speckle anywhere (water, total decorrelation): the interferogram is noise
                # whatever the offset. Record it and go on, so one incoherent scene never stops the DAG.
                offset = OffsetEstimate(0.0, 0.0, np.zeros((0, 2)), np.zeros(0))
                coreg_status = f"failed, zero offset used: {exc}"
                log.warning("%s: %s", scene_h5, coreg_status)
        log.info("%s: secondary offset %.4f rows, %.4f cols (%d chips)", scene_h5, offset.rows, offset.cols,
                 len(offset.chip_offsets))
        range_origin = float(a.get("near_range_m", scene.slant_range_m[0]))
        ml = _form_multilooked(scene, offset, cfg, range_origin, profiler, threads)
        z, coh = ml["z"], ml["coherence"]
        if gcfg["enabled"]:
            with maybe_step(profiler, "goldstein"):
                zf = goldstein(z, alpha=float(gcfg["alpha"]), fft_size=int(gcfg["fft_size"]),
                               window=int(gcfg["window"]), coherence=coh,
                               coherence_threshold=float(gcfg["coherence_threshold"]),
                               use_coherence_mask=bool(gcfg["use_coherence_mask"]), threads=threads)
                # keep the multilooked amplitude, take the filtered phase (SNAP's output scale is arbitrary)
                mag = np.abs(zf)
                np.divide(zf, mag, out=zf, where=mag > 0)
                zf[mag == 0] = 0
                zf *= np.abs(z)
                z = zf
                del zf, mag
        optional: dict[str, np.ndarray] = {}
        unwrap_info: dict[str, Any] = {}
        if cfg["unwrap"] != "none":
            with maybe_step(profiler, "unwrap"):
                unw = unwrap_phase(np.angle(z), coh, cfg["unwrap"], nlooks=la * lr)
                unw, ref_value = reference_far_field(unw, coh)
                optional["unwrapped"] = unw
                optional["los_displacement"] = phase_to_los(unw, scene.wavelength_m).astype(np.float32)
                unwrap_info = {"method": cfg["unwrap"], "reference": "median of coherent border frame",
                               "reference_phase_subtracted_rad": ref_value}
        params = {"config": cfg, "coregistration": {**offset.as_dict(), "status": coreg_status}, "range_origin_m": range_origin,
                  "reference_phase": "-(4 pi/lambda) B_perp ((R-R0)/(R tan theta) + h/(R sin theta))",
                  "unwrap": unwrap_info}
        attrs = base_attrs(
            event_id=a["event_id"], reference_time=a["reference_time"], secondary_time=a["secondary_time"],
            track=a["track"], flight_direction=a["flight_direction"], subswath=a["subswath"],
            wavelength_m=scene.wavelength_m, heading_deg=float(a["heading_deg"]),
            range_pixel_spacing_m=float(a["range_pixel_spacing_m"]) * lr,
            azimuth_pixel_spacing_m=float(a["azimuth_pixel_spacing_m"]) * la,
            looks_range=lr, looks_azimuth=la, backend=BACKEND, backend_parameters=params,
            scene_id=a.get("scene_id", ""), source_file=str(scene_h5),
        )
        truth = None
        if "truth" in ml:
            truth = {"los_displacement": ml["truth"], "attrs": scene.truth_attrs()}
        ifg = Interferogram(
            i=z.real.astype(np.float32), q=z.imag.astype(np.float32), coherence=coh,
            latitude=multilooked_grid(scene.latitude, la, lr), longitude=multilooked_grid(scene.longitude, la, lr),
            incidence=multilooked_grid(scene.incidence, la, lr), attrs=attrs, optional=optional, truth=truth,
        )
    with maybe_step(profiler, "write"):
        write_interferogram(out_h5, ifg)
    if quicklook_png is not None:
        from quakesar.quicklook import save_quicklook

        with maybe_step(profiler, "quicklook"):
            panels: dict[str, np.ndarray] = {"wrapped phase": z, "coherence": coh}
            if "los_displacement" in optional:
                panels["los_displacement"] = optional["los_displacement"]
            save_quicklook(quicklook_png, panels, title=f"{attrs['event_id']} {attrs['subswath']} (native)")
    log.info("%s written (%dx%d, looks %dx%d)", out_h5, *z.shape, la, lr)


def backend_parameters(path: Path) -> dict[str, Any]:
    """The decoded ``backend_parameters`` of an interferogram written by this backend."""
    with open_h5(path, "r") as f:
        return json.loads(f.attrs["backend_parameters"])
