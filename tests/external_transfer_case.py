"""The transfer case of tests/test_external_transfer.py and benchmarks/external_transfer.py: a training
scene (synthetic source + native backend) geocoded like a processor would, imported back as a
generic product, and compared with the radar-geometry original (docstring of the test module)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from pyproj import Geod
from scipy import ndimage
from scipy.interpolate import griddata

from external_builders import write_geotiff
from quakesar.convention import wrap
from quakesar.external.layouts import generic_spec
from quakesar.external.pseudo_radar import PseudoRadarGrid, pseudo_radar_interferogram
from quakesar.external.readers import read_product
from quakesar.interferogram.canonical import Interferogram, read_interferogram, write_interferogram
from quakesar.interferogram.native.pipeline import process_scene
from quakesar.synthetic.scene import fill_defaults, simulate_event

EVENT = {"id": "us7000df40", "time": "2021-03-03T10:16:09.755Z", "latitude": 39.7546, "longitude": 22.1757,
         "depth_km": 8.0, "magnitude": 6.3, "magnitude_type": "mww", "mw": 6.3}
CFG = {"simulate": {"mode": "reduced", "reduction": 32}, "interferogram": {"multilook": {"range": 4, "azimuth": 1}}}
GEOD = Geod(ellps="WGS84")
STEP_DEG = 0.004


@dataclass
class Case:
    work: Path
    radar: Interferogram
    pseudo: Interferogram
    grid: PseudoRadarGrid
    radar_pixel: Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]


def build_case(work: Path, reduction: int = 32) -> Case:
    """Simulate, process, geocode, import (module docstring); files under ``work``."""
    cfg = {"simulate": {"mode": "reduced", "reduction": reduction}, "interferogram": CFG["interferogram"]}
    sim = fill_defaults({"mode": "reduced", "reduction": reduction, "placement": "centred", "flight_direction": "ascending",
                         "quicklook": False})
    simulate_event(EVENT, sim, 7, {"IW2": work / "scene.h5"})
    process_scene(work / "scene.h5", work / "IW2.h5", {"multilook": {"range": 4, "azimuth": 1}, "goldstein": {"fft_size": 32}})
    radar = read_interferogram(work / "IW2.h5")
    rows, cols = radar.shape
    lat = radar.latitude.raster(slice(0, rows), slice(0, cols))
    lon = radar.longitude.raster(slice(0, rows), slice(0, cols))
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    sub = (slice(None, None, 6), slice(None, None, 6))
    pts = np.column_stack([lon[sub].ravel(), lat[sub].ravel()])

    def radar_pixel(qlon, qlat):
        return (griddata(pts, rr[sub].ravel(), (qlon, qlat), method="linear"),
                griddata(pts, cc[sub].ravel(), (qlon, qlat), method="linear"))

    gx = np.arange(lon.min(), lon.max(), STEP_DEG) + STEP_DEG / 2
    gy = np.arange(lat.max(), lat.min(), -STEP_DEG) - STEP_DEG / 2
    glon, glat = np.meshgrid(gx, gy)
    grow, gcol = radar_pixel(glon, glat)
    ok = np.isfinite(grow) & np.isfinite(gcol)
    at = np.stack([np.where(ok, grow, 0.0), np.where(ok, gcol, 0.0)])

    def sample(a):
        return np.where(ok, ndimage.map_coordinates(a, at, order=1), np.nan)

    z = radar.i + 1j * radar.q
    geo = {"los.tif": sample(radar.truth["los_displacement"]), "coh.tif": sample(radar.coherence),
           "pha.tif": np.where(ok, np.angle(sample(z.real) + 1j * sample(z.imag)), np.nan),
           "inc.tif": np.where(ok, radar.incidence.at(at[0], at[1]), np.nan)}
    transform = (gx[0] - STEP_DEG / 2, STEP_DEG, 0.0, gy[0] + STEP_DEG / 2, 0.0, -STEP_DEG)
    for name, a in geo.items():
        write_geotiff(work / name, a, transform, "EPSG:4326", nodata=np.nan)
    entry = {"layout": "geotiff", "name": "geocoded_IW2", "los_displacement": "los.tif", "wrapped": "pha.tif",
             "displacement_sign": "towards_positive", "phase_sign": "range_increase_positive", "coherence": "coh.tif",
             "incidence": "inc.tif", "heading_deg": float(radar.attrs["heading_deg"]),
             "reference_time": radar.attrs["reference_time"], "secondary_time": radar.attrs["secondary_time"]}
    product = read_product(generic_spec(entry, work, "transfer"))
    pseudo, grid = pseudo_radar_interferogram(product, EVENT, cfg)
    write_interferogram(work / "ext_geocoded_IW2.h5", pseudo)
    return Case(work, radar, pseudo, grid, radar_pixel)




def metrics(case: Case) -> dict[str, float]:
    """Grid and field agreement between the pseudo-radar import and the radar original."""
    radar, pseudo, grid = case.radar, case.pseudo, case.grid
    rows, cols = radar.shape
    inc_c = float(radar.incidence.at((rows - 1) / 2, (cols - 1) / 2))
    ground_rg = radar.attrs["range_pixel_spacing_m"] / math.sin(math.radians(inc_c))
    core = ndimage.binary_erosion(pseudo.optional["valid"].astype(bool), iterations=3)
    pr, pc = np.nonzero(core)
    brow, bcol = case.radar_pixel(pseudo.longitude.at(pr, pc), pseudo.latitude.at(pr, pc))
    m = np.isfinite(brow) & np.isfinite(bcol)
    at = np.stack([brow[m], bcol[m]])
    truth = ndimage.map_coordinates(radar.truth["los_displacement"], at, order=1)
    got = pseudo.optional["los_displacement"][pr[m], pc[m]]
    peak = float(np.max(np.abs(radar.truth["los_displacement"])))
    z = radar.i + 1j * radar.q
    ref = np.angle(ndimage.map_coordinates(z.real, at, order=1) + 1j * ndimage.map_coordinates(z.imag, at, order=1))
    ours = np.arctan2(pseudo.q[pr[m], pc[m]], pseudo.i[pr[m], pc[m]])
    coh = ndimage.map_coordinates(radar.coherence, at, order=1)
    good = coh > 0.5
    k = int(np.argmax(np.abs(pseudo.optional["los_displacement"][pr, pc])))
    r0, c0 = np.unravel_index(np.argmax(np.abs(radar.truth["los_displacement"])), radar.shape)
    _, _, miss = GEOD.inv(pseudo.longitude.at(pr[k], pc[k]), pseudo.latitude.at(pr[k], pc[k]),
                          radar.longitude.at(r0, c0), radar.latitude.at(r0, c0))
    return {
        "radar_shape": list(radar.shape), "pseudo_radar_shape": list(pseudo.shape),
        "radar_ground_range_px_centre_m": ground_rg, "pseudo_range_px_m": grid.range_spacing_m,
        "range_px_rel_diff": grid.range_spacing_m / ground_rg - 1.0,
        "radar_azimuth_px_m": float(radar.attrs["azimuth_pixel_spacing_m"]), "pseudo_azimuth_px_m": grid.azimuth_spacing_m,
        "heading_diff_deg": float(pseudo.attrs["heading_deg"]) - float(radar.attrs["heading_deg"]),
        "compared_pixels": int(m.sum()), "core_pixels": int(core.sum()),
        "los_max_abs_err_over_peak": float(np.max(np.abs(got - truth)) / peak),
        "los_rms_err_over_peak": float(np.sqrt(np.mean((got - truth) ** 2)) / peak),
        "los_peak_m": peak, "coherent_pixels": int(good.sum()),
        "phasor_agreement_coherent": float(abs(np.mean(np.exp(1j * wrap(ours - ref))[good]))),
        "phasor_agreement_all": float(abs(np.mean(np.exp(1j * wrap(ours - ref))))),
        "peak_location_miss_m": float(miss),
    }
