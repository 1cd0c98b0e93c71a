"""Simulate one event's Sentinel-1 IW pair and write one scene HDF5 per subswath.

Entry point :func:`simulate_event` (used by the ``simulate`` rule and ``quakesar simulate``).
File layout: docs/architecture.md "Synthetic scene", every field documented in docs/synthetic.md
and in the file's ``field_descriptions`` attribute.

Signal model of the secondary relative to the reference at each ground point (slant-range
difference ``dR = R2 - R1``, m; the interferogram ``reference * conj(secondary)`` then has phase
``4 pi dR / lambda``, :mod:`quakesar.convention`):

    dR = - d_LOS + delay_turbulent + K h + ramp(s, g)
         - B_perp * [ (R - near_range) / (R tan(theta)) + h / (R sin(theta)) ]

with ``d_LOS`` the Okada LOS displacement (positive towards the satellite), ``B_perp``,
``theta`` interpolated from the ``geometry/bperp_m`` and ``geometry/incidence`` tie-point grids,
``R`` from ``geometry/slant_range_m`` and ``h`` the ``geometry/height`` DEM, so that a processor can
remove the flat-earth and topographic phases from the file's geometry alone. The common two-way
phase ``-4 pi R1 / lambda`` is absorbed in the uniformly distributed speckle phase.

SLCs: ``reference = A u``, ``secondary = A' (gamma' u' + sqrt(1 - gamma'^2) v) exp(-4 pi i dR' / lambda)``
with ``A = sqrt(sigma0)``, ``u`` band-limited unit circular Gaussian speckle, ``v`` independent
speckle, ``gamma`` the coherence (:mod:`quakesar.synthetic.decorrelation`); primed quantities are
evaluated at the secondary pixel's ground point, i.e. at the misregistered position.

Work is done in line blocks written to HDF5 as they are computed; the deformation is computed on
a coarse radar grid (about 200 m) and interpolated bilinearly; the DEM, atmosphere and land-cover
fields live on a ground grid of the whole frame (shared by the subswaths of the pair).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import h5py
import numpy as np

from quakesar import __version__, convention
from quakesar.atomic import atomic_path
from quakesar.h5io import open_h5
from quakesar.rng import event_rng
from quakesar.synthetic import atmosphere, decorrelation, dem, landmask, s1geometry
from quakesar.synthetic.fields import bilinear_separable
from quakesar.synthetic.mechanism import FaultSource, draw_fault
from quakesar.synthetic.s1geometry import Frame, SubswathGrid
from quakesar.synthetic.spectral import smooth_unit_field
from quakesar.tiepoints import TiePointGrid

log = logging.getLogger(__name__)

#: ``simulate`` config defaults (mirror of workflow/schemas/config.schema.yaml; a test keeps them equal).
DEFAULTS: dict[str, Any] = {
    "mode": "reduced", "reduction": 8, "subswaths": ["IW1", "IW2", "IW3"], "flight_direction": "random",
    "temporal_baseline_days": [6, 12], "max_bperp_m": 150.0, "mechanism": "random", "strike_deg": None,
    "dip_deg": None, "rake_deg": None, "shear_modulus_pa": 3.0e10, "poisson_ratio": 0.25, "placement": "random",
    "dem": None, "turbulence_std_m": [0.005, 0.02], "stratified_std_m_per_km": 0.0075,
    "orbital_ramp_m_per_100km": 0.005, "misregistration_max_px": 0.3, "detectability_threshold_m": 0.01,
    "quicklook": True,
}
BLOCK_LINES = 256
CHUNK_LINES = 64
TIE_ROWS = 31
TIE_COLS = 81
OKADA_SPACING_M = 150.0
OKADA_MAX_SPACING_M = 500.0
GROUND_SPACING_M = 90.0
PLACEMENT_MARGIN = 0.05        # random placement: fraction of the frame width beyond the outer subswath edges
LAND_SIGMA0_DB = -8.0
WATER_SIGMA0_DB = -21.0
# Sentinel-1B flew from 2016-09-26 to 2021-12-23 (6-day revisit); S1C is assumed operational from 2025-05-01.
SIX_DAY_PERIODS = ((dt.datetime(2016, 9, 26, tzinfo=dt.timezone.utc), dt.datetime(2021, 12, 23, tzinfo=dt.timezone.utc)),
                   (dt.datetime(2025, 5, 1, tzinfo=dt.timezone.utc), dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)))


def fill_defaults(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``simulate`` section with every missing key set to its schema default."""
    out = dict(DEFAULTS)
    out.update(dict(cfg or {}))
    unknown = sorted(set(out) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"simulate: unknown key(s) {unknown}; expected a subset of {sorted(DEFAULTS)}")
    return out


@dataclass
class GroundField:
    """Values on a regular frame grid: node (a, b) at ``s = s0 + a * ds``, ``g = g0 + b * dg``."""

    s0: float
    g0: float
    ds: float
    dg: float
    values: np.ndarray

    @property
    def s_nodes(self) -> np.ndarray:
        return self.s0 + self.ds * np.arange(self.values.shape[0])

    @property
    def g_nodes(self) -> np.ndarray:
        return self.g0 + self.dg * np.arange(self.values.shape[1])

    def sample(self, s: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Bilinear values (float32) on the grid ``s[:, None] x g[None, :]``."""
        return bilinear_separable(self.values, (s - self.s0) / self.ds, (g - self.g0) / self.dg, dtype=np.float32)


@dataclass
class PairPlan:
    """Everything shared by the subswaths of one event's pair (drawn once, deterministically)."""

    event: dict[str, Any]
    cfg: dict[str, Any]
    seed: int
    fault: FaultSource
    frame: Frame
    flight_direction: str
    track: int
    reference_time: dt.datetime
    secondary_time: dt.datetime
    temporal_baseline_days: int
    bperp_centre_m: float
    baseline_tilt_rad: float
    bperp_along_per_m: float
    centre_look_rad: float
    centre_s_m: float
    atmosphere: atmosphere.AtmosphereParameters
    grids: dict[str, SubswathGrid]
    height: GroundField          # terrain height (m)
    delay: GroundField           # turbulent + stratified + orbital differential delay (m)
    sigma0: GroundField          # backscatter (linear)
    gamma_temporal: GroundField  # temporal coherence, 0 over water
    dem_info: dict[str, Any] = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def scene_id(self) -> str:
        d = "A" if self.flight_direction == "ascending" else "D"
        return (f"SYN_{self.event_id}_T{self.track:03d}{d}_{self.reference_time:%Y%m%dT%H%M%S}"
                f"_{self.secondary_time:%Y%m%dT%H%M%S}")

    def bperp(self, s: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Perpendicular baseline (m) at frame points: ``B_c cos(a - a_B) / cos(a_c - a_B)`` across track
        (fixed baseline vector, look angle a) times a linear along-track drift."""
        look = s1geometry.look_angle_from_ground(g)
        across = np.cos(look - self.centre_look_rad + self.baseline_tilt_rad) / math.cos(self.baseline_tilt_rad)
        return self.bperp_centre_m * across * (1.0 + self.bperp_along_per_m * (s - self.centre_s_m))


def _parse_time(event: Mapping[str, Any], source: str) -> dt.datetime:
    text = event.get("time")
    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{source}: field 'time' must be an ISO 8601 UTC time, got {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_event(event: Mapping[str, Any], source: str) -> tuple[float, float]:
    for key in ("id", "time", "latitude", "longitude", "depth_km", "mw"):
        if key not in event:
            raise ValueError(f"{source}: missing field {key!r} (expected an event record, docs/architecture.md)")
    try:
        lat, lon = float(event["latitude"]), float(event["longitude"])
    except (TypeError, ValueError):
        raise ValueError(f"{source}: fields 'latitude'/'longitude' must be numbers") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise ValueError(f"{source}: latitude/longitude out of range: {lat}, {lon}")
    return lat, lon


def plan_pair(event: Mapping[str, Any], cfg: Mapping[str, Any] | None, seed: int,
              source: str = "event record", ground_spacing_m: float | None = None) -> PairPlan:
    """Draw the pair, the fault, the frame and the ground fields of one event.

    ``ground_spacing_m`` overrides the spacing of the frame's ground fields (DEM, atmosphere,
    backscatter): the patch-level simulator (:mod:`quakesar.synthetic.patchsim`) needs them only at
    its sub-pixel spacing, several times coarser than the SLC pixels, which makes planning ~10x cheaper.
    """
    cfg = fill_defaults(cfg)
    event = dict(event)
    lat, lon = _check_event(event, source)
    eid = str(event["id"])
    mode = cfg["mode"]
    if mode not in ("reduced", "full"):
        raise ValueError(f"simulate.mode: expected 'reduced' or 'full', got {mode!r}")
    reduction = 1 if mode == "full" else int(cfg["reduction"])
    grids = {iw: SubswathGrid.build(iw, reduction) for iw in s1geometry.SUBSWATHS}
    for iw in cfg["subswaths"]:
        if iw not in grids:
            raise ValueError(f"simulate.subswaths: unknown subswath {iw!r}; expected IW1, IW2 or IW3")

    fault = draw_fault(event, cfg, event_rng(seed, eid, "mechanism"), source)

    rng = event_rng(seed, eid, "pair")
    u_dir, u_track, u_before, u_bperp, u_tilt, u_drift, u_s, u_g, u_days = rng.random(9)
    direction = cfg["flight_direction"]
    if direction == "random":
        direction = "ascending" if u_dir < 0.5 else "descending"
    if direction not in ("ascending", "descending"):
        raise ValueError(f"simulate.flight_direction: expected random, ascending or descending, got {direction!r}")
    heading = convention.HEADING_ASCENDING_DEG if direction == "ascending" else convention.HEADING_DESCENDING_DEG
    track = 1 + int(u_track * 175)
    t_event = _parse_time(event, source)
    choices = sorted(int(d) for d in cfg["temporal_baseline_days"])
    if not choices or min(choices) < 1:
        raise ValueError(f"simulate.temporal_baseline_days: expected positive integers, got {cfg['temporal_baseline_days']!r}")
    six_day = any(a <= t_event < b for a, b in SIX_DAY_PERIODS)
    allowed = [d for d in choices if d % 12 == 0 or (six_day and d % 6 == 0)] or choices
    days = allowed[min(int(u_days * len(allowed)), len(allowed) - 1)]
    t_ref = t_event - dt.timedelta(seconds=round(days * 86400.0 * (0.05 + 0.9 * u_before)))
    t_sec = t_ref + dt.timedelta(days=days)
    max_bperp = float(cfg["max_bperp_m"])
    bperp_c = max_bperp * (2.0 * u_bperp - 1.0)

    # frame: lines from 0 to S along track, ground range from IW1 near to IW3 far
    g_lo = float(grids["IW1"].ground_range(0.0))
    g_hi = float(grids["IW3"].ground_range(grids["IW3"].samples - 1))
    s_len = grids["IW1"].along_track(grids["IW1"].lines - 1)
    if cfg["placement"] == "centred":
        s_e = 0.5 * s_len
        iw2 = grids["IW2"]
        g_e = float(iw2.ground_range(0.5 * (iw2.samples - 1)))
    elif cfg["placement"] in ("random", "inside"):
        # random: anywhere in the frame and a margin beyond it; inside: anywhere within the imaged subswaths
        margin = PLACEMENT_MARGIN if cfg["placement"] == "random" else 0.0
        s_e = s_len * (0.05 + 0.9 * u_s)
        width = g_hi - g_lo
        g_e = g_lo - margin * width + (1.0 + 2.0 * margin) * width * u_g
    else:
        raise ValueError(f"simulate.placement: expected random, inside or centred, got {cfg['placement']!r}")
    frame = Frame(lat, lon, heading, float(s_e), float(g_e))
    g_c = 0.5 * (g_lo + g_hi)
    atm = atmosphere.draw_atmosphere(cfg, event_rng(seed, eid, "atmosphere/scalars"), 0.5 * s_len, g_c)

    # ground grid over the frame (plus a margin for misregistered positions)
    # ground grid spacing: 90 m at full resolution; in reduced mode 1.5 azimuth pixels (smooth fields), or, with a
    # real DEM, the finer of the pixel's ground size and the DEM's posting (so that relief is not smoothed away)
    demfile = dem.GeoTiffDem.open(cfg["dem"]) if cfg["dem"] else None
    iw1 = grids["IW1"]
    if ground_spacing_m is not None:
        spacing = float(ground_spacing_m)
        if not spacing > 0:
            raise ValueError(f"plan_pair: ground_spacing_m must be positive, got {ground_spacing_m!r}")
    elif demfile is not None:
        ground_px = min(iw1.azimuth_spacing_m, iw1.range_spacing_m / math.sin(math.radians(s1geometry.SUBSWATHS["IW1"][0])))
        spacing = max(demfile.posting_m, ground_px, 30.0)
    else:
        spacing = max(GROUND_SPACING_M, 1.5 * iw1.azimuth_spacing_m) if reduction > 1 else GROUND_SPACING_M
    margin = 2.0 * spacing
    s0, g0 = -margin, g_lo - margin
    shape = (int(math.ceil((s_len + 2 * margin) / spacing)) + 1, int(math.ceil((g_hi - g_lo + 2 * margin) / spacing)) + 1)
    coarse = 4.0 * spacing
    cshape = (int(math.ceil((s_len + 2 * margin) / coarse)) + 2, int(math.ceil((g_hi - g_lo + 2 * margin) / coarse)) + 2)
    cs = s0 + coarse * np.arange(cshape[0])
    cg = g0 + coarse * np.arange(cshape[1])
    clat, clon = frame.latlon(cs[:, None], cg[None, :])
    land = landmask.is_land(np.clip(clat, -89.999, 89.999), (clon + 180.0) % 360.0 - 180.0).astype(np.float64)

    dem_info: dict[str, Any]
    if demfile is not None:
        fs = s0 + spacing * np.arange(shape[0])
        fg = g0 + spacing * np.arange(shape[1])
        flat, flon = frame.latlon(fs[:, None], fg[None, :])
        h = demfile.sample(flat, flon)
        covered = np.isfinite(h)
        height = np.where(covered, h, 0.0)
        dem_info = {"dem_source": f"GeoTIFF {Path(cfg['dem']).name}", "dem_coverage_fraction": float(covered.mean())}
    else:
        height, params = dem.fractal_dem(shape, spacing, event_rng(seed, eid, "dem"))
        land_fine = bilinear_separable(land, (s0 + spacing * np.arange(shape[0]) - s0) / coarse,
                                       (g0 + spacing * np.arange(shape[1]) - g0) / coarse)
        height = np.where(land_fine >= 0.5, height, 0.0)
        dem_info = {"dem_source": "synthetic fractal", **params}
    fs = s0 + spacing * np.arange(shape[0])
    fg = g0 + spacing * np.arange(shape[1])
    height = height.astype(np.float32)
    turb = atmosphere.turbulent_delay(shape, spacing, atm.turbulence_std_m, event_rng(seed, eid, "atmosphere/turbulence"))
    delay = turb + np.float32(atm.stratified_m_per_m) * height + atm.ramp(fs[:, None], fg[None, :]).astype(np.float32)

    # land cover: long-term coherence floor, decorrelation time, backscatter texture (coarse grid)
    crng = event_rng(seed, eid, "coherence")
    rho = 0.05 + 0.55 * smooth_unit_field(cshape, coarse, 5000.0, crng)
    tau = 5.0 + 45.0 * smooth_unit_field(cshape, coarse, 5000.0, crng)
    texture = 3.0 * (2.0 * smooth_unit_field(cshape, coarse, 2000.0, crng) - 1.0)
    gamma_tl = np.where(land >= 0.5, decorrelation.temporal_coherence(days, rho, tau), 0.0)

    # backscatter sigma0 on the fine grid: land/water level + texture + terrain slope facing the radar
    to_coarse = ((fs - s0) / coarse, (fg - g0) / coarse)
    land_f = bilinear_separable(land, *to_coarse, dtype=np.float32)
    tex_f = bilinear_separable(texture, *to_coarse, dtype=np.float32)
    inc_g = np.radians(s1geometry.incidence_from_ground(fg)).astype(np.float32)
    slope = np.gradient(height, spacing, axis=1)    # dh/dg > 0: terrain rising away from the radar, facing it
    cos_loc = np.cos(inc_g[None, :] - np.arctan(slope))
    terrain_db = 20.0 * np.log10(np.clip(cos_loc, 0.05, None) / np.cos(inc_g)[None, :])
    sigma0_db = np.where(land_f >= 0.5, LAND_SIGMA0_DB + tex_f + terrain_db, WATER_SIGMA0_DB + tex_f / 3.0)
    sigma0 = np.power(np.float32(10.0), (sigma0_db / 10.0).astype(np.float32))

    def fine(v: np.ndarray) -> GroundField:
        return GroundField(s0, g0, spacing, spacing, v.astype(np.float32))

    return PairPlan(
        event=event, cfg=cfg, seed=int(seed), fault=fault, frame=frame, flight_direction=direction, track=track,
        reference_time=t_ref, secondary_time=t_sec, temporal_baseline_days=days, bperp_centre_m=bperp_c,
        baseline_tilt_rad=math.radians(60.0 * (u_tilt - 0.5)), bperp_along_per_m=0.05 * (2 * u_drift - 1) / 1.0e5,
        centre_look_rad=float(s1geometry.look_angle_from_ground(g_c)), centre_s_m=0.5 * s_len, atmosphere=atm,
        grids=grids, height=fine(height), delay=fine(delay), sigma0=fine(sigma0),
        gamma_temporal=GroundField(s0, g0, coarse, coarse, gamma_tl.astype(np.float32)), dem_info=dem_info)


FIELD_DESCRIPTIONS: dict[str, str] = {
    "reference": "complex64 [lines, samples] pre-event SLC, calibrated so that E|s|^2 = sigma0 (linear); band-limited speckle",
    "secondary": "complex64 [lines, samples] post-event SLC: reference speckle shifted by the misregistration, "
                 "decorrelated to the coherence, carrying the differential phase -4*pi*dR/wavelength (see @phase_model)",
    "geometry/latitude": "tie-point grid (deg, WGS84 on a sphere, zero height) of pixel latitude; quakesar.tiepoints layout",
    "geometry/longitude": "tie-point grid (deg, [-180, 180)) of pixel longitude; quakesar.tiepoints layout",
    "geometry/incidence": "tie-point grid (deg) of the incidence angle at the ground (zero height)",
    "geometry/height": "float32 [lines, samples] terrain height (m) in radar geometry (fractal or GeoTIFF DEM, 0 over sea)",
    "geometry/slant_range_m": "float64 [samples] slant range (m) of each sample: near_range_m + col * range_pixel_spacing_m",
    "geometry/azimuth_time_s": "float64 [lines] azimuth time (s) of each line after reference_time (first line)",
    "geometry/bperp_m": "tie-point grid (m) of the perpendicular baseline (secondary orbit relative to reference) used in @phase_model",
    "truth": "group: ground truth of the simulated deformation and source",
    "truth/los_displacement": "float32 [lines, samples] coseismic LOS displacement (m, positive towards the satellite) at the reference pixels",
    "geometry": "group: radar-geometry metadata of the reference acquisition",
    "@event_id": "catalog event id",
    "@subswath": "IW1, IW2 or IW3",
    "@flight_direction": "ascending or descending",
    "@heading_deg": "platform heading (deg clockwise from north): -12 ascending, -168 descending",
    "@track": "relative orbit number (synthetic, 1-175)",
    "@wavelength_m": "radar wavelength (m), quakesar.convention.WAVELENGTH_M",
    "@range_pixel_spacing_m": "slant-range pixel spacing (m): 2.329562 x reduction",
    "@azimuth_pixel_spacing_m": "azimuth pixel spacing on the ground (m): about 13.9 x reduction",
    "@azimuth_time_interval_s": "azimuth line time interval (s): 2.055556e-3 x reduction",
    "@near_range_m": "slant range of sample 0 (m)",
    "@reference_time": "ISO UTC time of the first line of the reference (pre-event) acquisition",
    "@secondary_time": "ISO UTC time of the first line of the secondary (post-event) acquisition",
    "@event_time": "ISO UTC origin time of the event (from the event record)",
    "@bperp_m": "perpendicular baseline (m) at the subswath centre",
    "@temporal_baseline_days": "secondary_time - reference_time (days)",
    "@mode": "full or reduced",
    "@reduction": "pixel-spacing multiplier / count divisor (1 in full mode)",
    "@seed": "config seed (all random draws derive from seed, event id and purpose)",
    "@misregistration_rows": "true azimuth offset (pixels) of the secondary relative to the reference: a feature at reference row i is at secondary row i + this",
    "@misregistration_cols": "true range offset (pixels) of the secondary relative to the reference (same sense as rows)",
    "@epicentre_in_subswath": "true when the epicentre lies inside this subswath's radar grid",
    "@epicentre_row": "fractional line of the epicentre (NaN when outside the subswath)",
    "@epicentre_col": "fractional sample of the epicentre (NaN when outside the subswath)",
    "@epicentre_lat": "catalog epicentre latitude (deg)",
    "@epicentre_lon": "catalog epicentre longitude (deg)",
    "@scene_id": "id of the pair: the same for every subswath of the event",
    "@range_bandwidth_hz": "processed range bandwidth of the subswath (Hz)",
    "@orbit_altitude_m": "orbit altitude of the geometry model (m, spherical Earth)",
    "@earth_radius_m": "radius of the spherical Earth of the geometry model (m)",
    "@sign_convention": "quakesar.convention.SIGN_CONVENTION",
    "@phase_model": "the secondary's differential range dR and how each term is computed",
    "@software_version": "quakesar version that wrote the file",
    "@source": "'synthetic' (quakesar.synthetic)",
    "@field_descriptions": "this JSON: every dataset and attribute of the file",
    "truth@mw": "moment magnitude used by the physics (event record field mw)",
    "truth@magnitude": "catalog magnitude",
    "truth@magnitude_type": "catalog magnitude type (lower case, ComCat)",
    "truth@moment_nm": "seismic moment M0 = 10**(1.5 Mw + 9.1) (N m)",
    "truth@mechanism": "thrust, normal or strike-slip",
    "truth@strike_deg": "fault strike (deg clockwise from north)",
    "truth@dip_deg": "fault dip (deg, to the right of strike)",
    "truth@rake_deg": "slip rake (deg, Aki & Richards)",
    "truth@length_m": "rupture length (m), Wells & Coppersmith 1994 RLD",
    "truth@width_m": "rupture width (m), Wells & Coppersmith 1994 RW",
    "truth@slip_m": "uniform slip M0 / (mu L W) (m)",
    "truth@centroid_lat": "latitude of the fault-plane centre (deg)",
    "truth@centroid_lon": "longitude of the fault-plane centre (deg)",
    "truth@centroid_depth_m": "depth of the fault-plane centre (m)",
    "truth@top_depth_m": "depth of the fault's top edge (m, >= 0)",
    "truth@bottom_depth_m": "depth of the fault's bottom edge (m)",
    "truth@hypocentre_depth_m": "catalog depth (m, clipped at 0) of the hypocentre, which lies on the fault plane",
    "truth@hypocentre_along_strike_fraction": "hypocentre position along strike (fraction of the length from the start)",
    "truth@hypocentre_down_dip_fraction": "hypocentre position down dip (fraction of the width from the top edge), before any shift",
    "truth@downdip_shift_m": "down-dip slide of the fault applied so that its top edge is not above the surface (m)",
    "truth@shear_modulus_pa": "shear modulus mu (Pa)",
    "truth@poisson_ratio": "Poisson ratio nu",
    "truth@peak_abs_los_m": "max |los_displacement| over this subswath (m)",
    "truth@detectable": "peak_abs_los_m > detectability_threshold_m",
    "truth@detectability_threshold_m": "threshold (m) of the detectable flag (simulate.detectability_threshold_m)",
    "truth@turbulence_std_m": "standard deviation of the turbulent differential delay (m) over the frame",
    "truth@stratified_m_per_m": "stratified differential delay per metre of height (m/m)",
    "truth@orbital_ramp_along_m_per_m": "orbital ramp gradient along track (m/m)",
    "truth@orbital_ramp_cross_m_per_m": "orbital ramp gradient across track (m/m)",
    "truth@dem_source": "synthetic fractal or GeoTIFF file name",
    "truth@dem_parameters": "JSON: fractal DEM base/relief, or GeoTIFF coverage fraction of the frame",
    "truth@coherence_model": "how the coherence of the pair was built",
}

PHASE_MODEL = (
    "secondary(i, j) = [A*(gamma*u + sqrt(1-gamma^2)*v)*exp(-i*4*pi*dR/wavelength)] with A, gamma, u, dR taken at "
    "(i-misregistration_rows, j-misregistration_cols) and v independent; reference(i, j) = A(i, j)*u(i, j); "
    "dR (m, secondary minus reference range) at the ground point of the secondary pixel: "
    "dR = -truth.los_displacement + turbulent + stratified*height + ramp "
    "- bperp*((R - near_range_m)/(R*tan(incidence)) + height/(R*sin(incidence))), with R = slant_range_m, "
    "incidence and bperp bilinear from the geometry tie-point grids, height = geometry/height; so the flat-earth phase "
    "-(4*pi/wavelength)*bperp*(R - near_range_m)/(R*tan(incidence)) and the topographic phase "
    "-(4*pi/wavelength)*bperp*height/(R*sin(incidence)) of reference*conj(secondary) can be removed from the file"
)

COHERENCE_MODEL = ("gamma = gamma_temporal*gamma_geometric*gamma_thermal on land, 0 on water (global-land-mask); "
                   "temporal (1-rho_inf)exp(-t/tau)+rho_inf with smooth random rho_inf in [0.05,0.6], tau in [5,50] days; "
                   "geometric 1-|bperp|/B_crit; thermal 1/(1+NESZ/sigma0), NESZ -22 dB")


def _tie_nodes(n: int, k: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, n - 1, min(n, k)))).astype(np.float64)


def _coarse_nodes(n: int, step: int, pad: int = 1) -> np.ndarray:
    nodes = np.arange(-pad * step, n - 1, step, dtype=np.float64)
    return np.append(nodes, [n - 1.0, n - 1.0 + pad * step])


def subswath_tiepoints(plan: PairPlan, iw: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Tie-point node rows and columns of subswath ``iw`` (its own pixel coordinates) and the latitude,
    longitude, incidence (deg) and perpendicular baseline (m) at the nodes: the scene's geometry grids."""
    grid = plan.grids[iw]
    tr, tc = _tie_nodes(grid.lines, TIE_ROWS), _tie_nodes(grid.samples, TIE_COLS)
    s_t, g_t = grid.along_track(tr), grid.ground_range(tc)
    lat_t, lon_t = plan.frame.latlon(s_t[:, None], g_t[None, :])
    inc_t = np.repeat(s1geometry.incidence_from_ground(g_t)[None, :], tr.size, axis=0)
    return tr, tc, {"latitude": lat_t, "longitude": lon_t, "incidence": inc_t, "bperp_m": plan.bperp(s_t[:, None], g_t[None, :])}


def _misregistration(plan: PairPlan, iw: str) -> tuple[float, float]:
    mx = float(plan.cfg["misregistration_max_px"])
    if mx < 0:
        raise ValueError(f"simulate.misregistration_max_px: expected >= 0, got {mx}")
    dr, dc = event_rng(plan.seed, plan.event_id, f"{iw}/misregistration").uniform(-mx, mx, 2)
    return float(dr), float(dc)


def write_subswath(plan: PairPlan, iw: str, path: str | Path, quicklook: str | Path | None = None,
                   threads: int = 1) -> dict[str, Any]:
    """Simulate subswath ``iw`` of the planned pair and write its scene HDF5 (and quicklook PNG).

    With ``threads`` > 1 the independent speckle fields of a block (the second draw ``v`` and the
    shifted secondary speckle) are filtered on helper threads while this thread computes the rest;
    the bytes written are the same for any thread count.
    """
    pool = ThreadPoolExecutor(max_workers=threads - 1) if threads > 1 else None
    try:
        return _write_subswath(plan, iw, path, quicklook, pool)
    finally:
        if pool is not None:
            pool.shutdown()


def _write_subswath(plan: PairPlan, iw: str, path: str | Path, quicklook: str | Path | None,
                    pool: ThreadPoolExecutor | None) -> dict[str, Any]:
    grid = plan.grids[iw]
    eid, seed = plan.event_id, plan.seed
    lines, samples = grid.lines, grid.samples
    lam = convention.WAVELENGTH_M
    k4 = 4.0 * np.pi / lam
    cols = np.arange(samples, dtype=np.float64)
    g_cols = grid.ground_range(cols)
    inc_cols = s1geometry.incidence_from_ground(g_cols)

    # geolocation and baseline tie-point grids
    tr, tc, tie = subswath_tiepoints(plan, iw)
    lat_t, lon_t, inc_t, bperp_t = tie["latitude"], tie["longitude"], tie["incidence"], tie["bperp_m"]
    dr, dc = _misregistration(plan, iw)

    # deformation on a coarse radar grid, LOS-projected: node spacing a quarter of the centroid depth
    # (the length scale of the surface field), between OKADA_SPACING_M and OKADA_MAX_SPACING_M
    target = max(min(max(OKADA_SPACING_M, plan.fault.centroid_depth_m / 4.0), OKADA_MAX_SPACING_M), grid.azimuth_spacing_m)
    ka = max(1, int(round(target / grid.azimuth_spacing_m)))
    ground_px = grid.range_spacing_m / math.sin(math.radians(float(inc_cols[0])))
    kc = max(1, int(round(target / ground_px)))
    orow, ocol = _coarse_nodes(lines, ka), _coarse_nodes(samples, kc)
    on_s, on_g = grid.along_track(orow), grid.ground_range(np.maximum(ocol, -0.49 * samples))
    east, north = plan.frame.east_north(on_s[:, None], on_g[None, :])
    ue, un, uu = plan.fault.displacement_enu(east, north)
    los_nodes = convention.enu_to_los(ue, un, uu, s1geometry.incidence_from_ground(on_g)[None, :], plan.frame.heading_deg)

    # epicentre in this subswath?
    e_row = plan.frame.epicentre_s_m / grid.azimuth_spacing_m
    e_col = float(grid.col_of_ground(plan.frame.epicentre_g_m))
    inside = bool(0.0 <= e_row <= lines - 1 and 0.0 <= e_col <= samples - 1)

    # quicklook decimation
    fa = max(1, int(math.ceil(lines / 600)))
    fc = max(1, int(math.ceil(samples / 600)))
    block = fa * max(1, int(round(BLOCK_LINES / fa)))
    ql_ifg = np.zeros((lines // fa, samples // fc), np.complex64)
    ql_los = np.zeros((lines // fa, samples // fc), np.float32)

    speckle_u = decorrelation.BandLimitedSpeckle(samples, block, grid.range_oversampling, s1geometry.AZIMUTH_OVERSAMPLING,
                                                 lambda b: event_rng(seed, eid, f"{iw}/speckle/u/{b}"))
    speckle_v = decorrelation.BandLimitedSpeckle(samples, block, grid.range_oversampling, s1geometry.AZIMUTH_OVERSAMPLING,
                                                 lambda b: event_rng(seed, eid, f"{iw}/speckle/v/{b}"))
    slant = grid.slant_range(cols)
    cols_s = cols - dc
    g_s = grid.ground_range(cols_s)
    r_s = grid.slant_range(cols_s)
    inc_s = np.radians(bilinear_separable(inc_t, tr[:1], cols_s, tr, tc)[0])
    crit_s = decorrelation.critical_baseline_m(r_s, np.degrees(inc_s), grid.range_bandwidth_hz).astype(np.float32)
    flat_coef = ((r_s - grid.near_range_m) / (r_s * np.tan(inc_s))).astype(np.float32)
    topo_coef = (1.0 / (r_s * np.sin(inc_s))).astype(np.float32)
    peak = 0.0

    chunks = (min(CHUNK_LINES, lines), samples)
    path = Path(path)
    with atomic_path(path) as tmp, open_h5(tmp, "w") as f:
        d_ref = f.create_dataset("reference", (lines, samples), np.complex64, chunks=chunks)
        d_sec = f.create_dataset("secondary", (lines, samples), np.complex64, chunks=chunks)
        geo = f.create_group("geometry")
        truth = f.create_group("truth")
        d_h = geo.create_dataset("height", (lines, samples), np.float32, chunks=chunks)
        d_los = truth.create_dataset("los_displacement", (lines, samples), np.float32, chunks=chunks)
        for b, r0 in enumerate(range(0, lines, block)):
            r1 = min(lines, r0 + block)
            n = r1 - r0
            rows = np.arange(r0, r1, dtype=np.float64)
            s_ref = grid.along_track(rows)
            v_future = pool.submit(speckle_v.field, b, n, [(0.0, 0.0)]) if pool is not None else None
            los = bilinear_separable(los_nodes, rows, cols, orow, ocol, dtype=np.float32)
            peak = max(peak, float(np.abs(los).max()))
            d_los[r0:r1] = los
            height = plan.height.sample(s_ref, g_cols)
            d_h[r0:r1] = height

            # backscatter at both SLCs' pixels; coherence at the secondary pixels' ground points
            amp_ref = np.sqrt(plan.sigma0.sample(s_ref, g_cols))
            rows_s = rows - dr
            s_s = grid.along_track(rows_s)
            sigma0_s = plan.sigma0.sample(s_s, g_s)
            gamma = plan.gamma_temporal.sample(s_s, g_s)
            gamma *= decorrelation.thermal_coherence(sigma0_s)
            bperp_s = bilinear_separable(bperp_t, rows_s, cols_s, tr, tc, dtype=np.float32)
            gamma *= decorrelation.geometric_coherence(bperp_s, crit_s)
            np.clip(gamma, 0.0, 1.0, out=gamma)

            # differential range at the secondary pixels' ground points
            h_s = plan.height.sample(s_s, g_s)
            base = -bperp_s * (flat_coef[None, :] + h_s * topo_coef[None, :])
            d_range = plan.delay.sample(s_s, g_s)
            d_range -= bilinear_separable(los_nodes, rows_s, cols_s, orow, ocol, dtype=np.float32)
            d_range += base
            phase = np.mod(np.float32(k4) * d_range, np.float32(2.0 * np.pi))
            rot = np.empty((n, samples), np.complex64)
            rot.real = np.cos(phase)
            rot.imag = -np.sin(phase)

            u_ref, u_sec = speckle_u.field(b, n, [(0.0, 0.0), (dr, dc)], executor=pool)
            (v,) = v_future.result() if v_future is not None else speckle_v.field(b, n, [(0.0, 0.0)])
            decor = np.sqrt(1.0 - gamma * gamma)
            ref = amp_ref * u_ref
            u_sec *= gamma
            v *= decor
            u_sec += v
            u_sec *= np.sqrt(sigma0_s)
            u_sec *= rot
            sec = u_sec
            d_ref[r0:r1] = ref
            d_sec[r0:r1] = sec

            if quicklook is not None and n >= fa:
                base_phase = np.mod(np.float32(k4) * base, np.float32(2.0 * np.pi))
                unflat = np.empty((n, samples), np.complex64)
                unflat.real = np.cos(base_phase)
                unflat.imag = -np.sin(base_phase)
                z = ref * np.conj(sec) * unflat
                na, nc = n // fa, samples // fc
                q0 = r0 // fa
                ql_ifg[q0:q0 + na] = z[:na * fa, :nc * fc].reshape(na, fa, nc, fc).mean(axis=(1, 3))
                ql_los[q0:q0 + na] = los[:na * fa, :nc * fc].reshape(na, fa, nc, fc).mean(axis=(1, 3))

        TiePointGrid(tr, tc, lat_t).write(geo, "latitude", units="deg")
        TiePointGrid(tr, tc, lon_t, is_longitude=True).write(geo, "longitude", units="deg")
        TiePointGrid(tr, tc, inc_t).write(geo, "incidence", units="deg")
        TiePointGrid(tr, tc, bperp_t).write(geo, "bperp_m", units="m")
        geo.create_dataset("slant_range_m", data=slant)
        geo.create_dataset("azimuth_time_s", data=np.arange(lines) * grid.azimuth_time_interval_s)
        _write_attrs(f, truth, plan, iw, grid, dr, dc, inside, e_row, e_col, peak, bperp_t, tr, tc)

    if quicklook is not None:
        from quakesar.quicklook import save_quicklook

        save_quicklook(quicklook, {"interferogram, flat earth + topography removed": ql_ifg,
                                   "truth LOS displacement (m)": ql_los},
                       title=f"{eid} {iw} {plan.flight_direction} {plan.reference_time:%Y-%m-%d} - "
                             f"{plan.secondary_time:%Y-%m-%d}, Mw {plan.fault.mw:.1f} {plan.fault.mechanism}")
    return {"subswath": iw, "path": str(path), "peak_abs_los_m": peak, "epicentre_in_subswath": inside}


def _write_attrs(f: h5py.File, truth: h5py.Group, plan: PairPlan, iw: str, grid: SubswathGrid, dr: float, dc: float,
                 inside: bool, e_row: float, e_col: float, peak: float, bperp_t: np.ndarray, tr: np.ndarray,
                 tc: np.ndarray) -> None:
    cfg, fault = plan.cfg, plan.fault
    centre = bilinear_separable(bperp_t, np.array([(grid.lines - 1) / 2.0]), np.array([(grid.samples - 1) / 2.0]), tr, tc)
    root = {
        "event_id": plan.event_id, "subswath": iw, "flight_direction": plan.flight_direction,
        "heading_deg": float(plan.frame.heading_deg), "track": int(plan.track), "wavelength_m": convention.WAVELENGTH_M,
        "range_pixel_spacing_m": grid.range_spacing_m, "azimuth_pixel_spacing_m": grid.azimuth_spacing_m,
        "azimuth_time_interval_s": grid.azimuth_time_interval_s, "near_range_m": grid.near_range_m,
        "reference_time": _iso(plan.reference_time), "secondary_time": _iso(plan.secondary_time),
        "event_time": _iso(_parse_time(plan.event, "event record")),
        "bperp_m": float(centre[0, 0]), "temporal_baseline_days": int(plan.temporal_baseline_days),
        "mode": cfg["mode"], "reduction": 1 if cfg["mode"] == "full" else int(cfg["reduction"]), "seed": int(plan.seed),
        "misregistration_rows": dr, "misregistration_cols": dc, "epicentre_in_subswath": inside,
        "epicentre_row": e_row if inside else np.nan, "epicentre_col": e_col if inside else np.nan,
        "epicentre_lat": plan.frame.epicentre_lat, "epicentre_lon": plan.frame.epicentre_lon,
        "scene_id": plan.scene_id, "range_bandwidth_hz": grid.range_bandwidth_hz,
        "orbit_altitude_m": s1geometry.ORBIT_ALTITUDE_M, "earth_radius_m": s1geometry.EARTH_RADIUS_M,
        "sign_convention": convention.SIGN_CONVENTION, "phase_model": PHASE_MODEL, "software_version": __version__,
        "source": "synthetic", "field_descriptions": json.dumps(FIELD_DESCRIPTIONS, sort_keys=True),
    }
    for key, value in root.items():
        f.attrs[key] = value
    clat, clon = plan.frame.latlon(*_frame_of_en(plan, fault.centroid_east_m, fault.centroid_north_m))
    threshold = float(cfg["detectability_threshold_m"])
    atm = plan.atmosphere
    dem_params = {k: v for k, v in plan.dem_info.items() if k != "dem_source"}
    tattrs = {
        "mw": fault.mw, "magnitude": float(plan.event.get("magnitude", np.nan) if plan.event.get("magnitude") is not None else np.nan),
        "magnitude_type": str(plan.event.get("magnitude_type", "")), "moment_nm": fault.moment_nm,
        "mechanism": fault.mechanism, "strike_deg": fault.strike_deg, "dip_deg": fault.dip_deg,
        "rake_deg": fault.rake_deg, "length_m": fault.length_m, "width_m": fault.width_m, "slip_m": fault.slip_m,
        "centroid_lat": float(clat), "centroid_lon": float(clon), "centroid_depth_m": fault.centroid_depth_m,
        "top_depth_m": fault.top_depth_m, "bottom_depth_m": fault.bottom_depth_m,
        "hypocentre_depth_m": fault.hypocentre_depth_m,
        "hypocentre_along_strike_fraction": fault.hypocentre_along_strike_fraction,
        "hypocentre_down_dip_fraction": fault.hypocentre_down_dip_fraction, "downdip_shift_m": fault.downdip_shift_m,
        "shear_modulus_pa": fault.shear_modulus_pa, "poisson_ratio": fault.poisson_ratio, "peak_abs_los_m": peak,
        "detectable": bool(peak > threshold), "detectability_threshold_m": threshold,
        "turbulence_std_m": atm.turbulence_std_m, "stratified_m_per_m": atm.stratified_m_per_m,
        "orbital_ramp_along_m_per_m": atm.ramp_along_m_per_m, "orbital_ramp_cross_m_per_m": atm.ramp_cross_m_per_m,
        "dem_source": str(plan.dem_info.get("dem_source", "")), "dem_parameters": json.dumps(dem_params, sort_keys=True),
        "coherence_model": COHERENCE_MODEL,
    }
    for key, value in tattrs.items():
        truth.attrs[key] = value


def _frame_of_en(plan: PairPlan, east: float, north: float) -> tuple[float, float]:
    """Frame (s, g) of a local east/north offset from the epicentre (inverse of Frame.east_north)."""
    h = math.radians(plan.frame.heading_deg)
    return (plan.frame.epicentre_s_m + east * math.sin(h) + north * math.cos(h),
            plan.frame.epicentre_g_m + east * math.cos(h) - north * math.sin(h))


def simulate_event(event: dict, cfg: dict, seed: int, outputs: dict[str, Path],
                   quicklooks: dict[str, Path] | None = None, threads: int = 1) -> None:
    """Simulate the event's pair and write ``outputs[iw]`` (and ``quicklooks[iw]``) for each subswath.

    ``event`` is the parsed event record, ``cfg`` the ``simulate`` config section, ``seed`` the
    config seed. The same inputs give byte-identical HDF5 files.
    """
    source = f"event record {event.get('id', '?')}"
    plan = plan_pair(event, cfg, seed, source)
    for iw, path in outputs.items():
        if iw not in plan.grids:
            raise ValueError(f"simulate outputs: unknown subswath {iw!r}; expected IW1, IW2 or IW3")
        ql = None if quicklooks is None or not plan.cfg["quicklook"] else quicklooks.get(iw)
        summary = write_subswath(plan, iw, path, ql, threads=threads)
        log.info("simulated %s %s: peak |LOS| %.4f m, epicentre inside: %s", plan.event_id, iw,
                 summary["peak_abs_los_m"], summary["epicentre_in_subswath"])
