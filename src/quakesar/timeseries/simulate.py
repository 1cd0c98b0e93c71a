"""Synthetic InSAR time series of one geocoded tile, with its ground truth (issue 15).

A sample is ``N`` LOS displacement maps on a north-up grid of ``size x size`` pixels of ``spacing_m``, in
the layout of a MintPy ``timeseries.h5`` (Yunjun et al. 2019, Comput. Geosci. 133:104331): map ``k`` is the
displacement at acquisition ``k`` relative to acquisition 0, so map 0 is zero. Per acquisition ``k``::

    ts_k = d_k + e_k - e_0,    e_k = -(a_turb,k + K_k (h - mean h) + ramp_k) + n_k

* ``d_k = s_k D``: the deformation, a fixed LOS pattern ``D`` times a time function ``s_k`` in [0, 1]:
  a **coseismic step** (``s_k = 1`` from the event's first post-event acquisition on), a **slow-slip
  transient** (linear ramp of ``s`` from an onset over 2-6 revisits), or **none** (negatives). ``D`` is
  the Okada (1985) surface displacement of a uniform-slip rectangular fault
  (:func:`quakesar.synthetic.mechanism.draw_fault`: mechanism, strike/dip/rake, Wells & Coppersmith 1994
  dimensions, Hanks & Kanamori 1979 moment) projected on the LOS (:func:`quakesar.convention.enu_to_los`)
  of a random pass (incidence 30-46 deg, ascending or descending heading). Mw follows a truncated
  Gutenberg-Richter law (b = 1 by default) and depth a uniform range, as a catalog would; with
  ``peak_m`` set the slip is scaled so that the tile's peak |LOS| is log-uniform in that range (the
  pattern stays Okada's; ``mw_effective = Mw + 2/3 log10(scale)`` records the moment of the scaled slip).
  **Peak** (``peak_abs_los_m``, the quantity of every detection limit) is the peak of ``|D - mean D|`` over
  the tile: a series is known up to a constant per date, so a tile referenced to itself shows only that
  part (a source much wider than the tile looks like an offset); ``peak_abs_los_raw_m`` is ``max |D|``.
* ``a_turb,k``: the acquisition's turbulent delay (Hanssen 2001 eq. 4.7.28 spectrum,
  :func:`quakesar.synthetic.atmosphere.turbulent_delay`) of std ``sigma / sqrt(2)``, so that a pair of the
  series has the turbulent std ``sigma`` of :mod:`quakesar.detectability`.
* ``K_k (h - mean h)``: topography-correlated (stratified) delay on the sample's DEM
  (:func:`quakesar.synthetic.dem.fractal_dem`), ``K_k ~ N(0, stratified_std / sqrt(2))``.
* ``ramp_k``: orbital ramp ``b x + c y``, ``b, c ~ N(0, orbital_ramp)``.
* ``n_k``: decorrelation noise, white, of the Cramér-Rao phase std
  (:func:`quakesar.synthetic.decorrelation.cramer_rao_phase_std`) for the acquisition's coherence
  ``(1 - rho) exp(-revisit / tau) + rho`` (Kellndorfer et al. 2022) with a smooth random floor ``rho``.

Delays are positive for a longer range, i.e. negative LOS displacement (:mod:`quakesar.convention`).
Every draw comes from ``event_rng(seed, sample_id, purpose)`` with one stream per purpose, so a sample is
reproducible and overriding one quantity (the evaluation fixes kind, peak or noise) leaves the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quakesar import convention
from quakesar.rng import event_rng
from quakesar.synthetic.atmosphere import turbulent_delay
from quakesar.synthetic.decorrelation import cramer_rao_phase_std, temporal_coherence
from quakesar.synthetic.dem import fractal_dem
from quakesar.synthetic.mechanism import draw_fault
from quakesar.synthetic.spectral import smooth_unit_field
from quakesar.timeseries.settings import KINDS, SeriesSettings

#: scalar truth fields of every sample, in the order the dataset stores them
TRUTH_FIELDS = ("kind", "event_index", "onset_day", "duration_days", "mw", "mw_effective", "depth_km", "mechanism",
                "strike_deg", "dip_deg", "rake_deg", "slip_m", "epicentre_row", "epicentre_col", "peak_abs_los_m", "peak_abs_los_raw_m",
                "turbulence_std_m", "stratified_std_m_per_m", "incidence_deg", "heading_deg", "label")


@dataclass
class SeriesSample:
    """One simulated tile series and its truth (arrays float32, metres)."""

    sample_id: str
    series: np.ndarray          # [N, H, W] LOS displacement relative to acquisition 0 (MintPy layout)
    dem: np.ndarray             # [H, W] heights
    days: np.ndarray            # [N] acquisition times, days after acquisition 0
    cumulative: np.ndarray      # [H, W] true LOS deformation between the first and the last acquisition
    time_function: np.ndarray   # [N] s_k: true deformation at k = s_k * cumulative
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def deformation(self) -> np.ndarray:
        """[N, H, W] true deformation at each acquisition (relative to acquisition 0)."""
        return self.time_function[:, None, None] * self.cumulative[None]


def tile_coordinates(size: int, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) of the pixel centres (m) from the tile centre; row 0 is the northern edge."""
    c = (np.arange(size) - (size - 1) / 2.0) * spacing_m
    return np.broadcast_to(c[None, :], (size, size)), np.broadcast_to(-c[:, None], (size, size))


def gutenberg_richter_mw(u: float, lo: float, hi: float, b: float) -> float:
    """Inverse CDF of a Gutenberg-Richter magnitude law ``N(>=M) ~ 10**(-b M)`` truncated to [lo, hi]."""
    if hi <= lo:
        return lo
    return lo - math.log10(1.0 - u * (1.0 - 10.0 ** (-b * (hi - lo)))) / b


def _choose_kind(settings: SeriesSettings, rng: np.random.Generator) -> str:
    names = [k for k in KINDS if settings.kinds.get(k, 0.0) > 0]
    w = np.array([settings.kinds[k] for k in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def _time_function(kind: str, settings: SeriesSettings, rng: np.random.Generator) -> tuple[np.ndarray, int, float, float]:
    """(s_k, first affected index, onset day, duration days); negatives get a hypothetical step date."""
    days = np.asarray(settings.event_days)
    n = settings.n_dates
    k_e = int(rng.integers(1, n))                     # drawn for every kind (stable streams)
    u_on, u_dur = rng.random(), rng.random()
    if kind == "slow_slip":
        onset = days[0] + u_on * (days[n - 3] - days[0])
        duration = min((2.0 + 4.0 * u_dur) * settings.revisit_days, days[-1] - onset)
        s = np.clip((days - onset) / duration, 0.0, 1.0)
        return s, int(np.argmax(s > 0)), float(onset), float(duration)
    onset = 0.5 * (days[k_e - 1] + days[k_e])
    s = (np.arange(n) >= k_e).astype(np.float64)
    if kind == "none":
        return np.zeros(n), k_e, float(onset), 0.0
    return s, k_e, float(onset), 0.0


def _deformation(settings: SeriesSettings, rng: np.random.Generator, mw: float | None, depth_km: float | None,
                 peak_m: float | None) -> tuple[np.ndarray, dict[str, Any]]:
    """The LOS pattern D of one Okada source in the tile, and its truth."""
    u_mw, u_depth, u_inc, u_pass, u_e, u_n, u_peak = rng.random(7)
    lo, hi = settings.mw
    mw_val = gutenberg_richter_mw(u_mw, lo, hi, settings.gutenberg_richter_b) if mw is None else float(mw)
    dlo, dhi = settings.depth_km
    depth = dlo + (dhi - dlo) * u_depth if depth_km is None else float(depth_km)
    fault = draw_fault({"mw": mw_val, "depth_km": depth}, {}, rng, source="timeseries sample")
    half = settings.epicentre_fraction * settings.size * settings.spacing_m
    e0, n0 = (2.0 * u_e - 1.0) * half, (2.0 * u_n - 1.0) * half
    east, north = tile_coordinates(settings.size, settings.spacing_m)
    ue, un, uu = fault.displacement_enu(east - e0, north - n0)
    incidence = 30.0 + 16.0 * u_inc
    heading = convention.HEADING_ASCENDING_DEG if u_pass < 0.5 else convention.HEADING_DESCENDING_DEG
    los = convention.enu_to_los(ue, un, uu, incidence, heading)
    peak = float(np.max(np.abs(los - los.mean())))     # what a tile referenced to its own mean can show
    target = peak_m
    if target is None and settings.peak_m is not None:
        plo, phi = settings.peak_m
        target = math.exp(math.log(plo) + u_peak * (math.log(phi) - math.log(plo)))
    scale = 1.0 if target is None or peak <= 0 else float(target) / peak
    los = los * scale
    truth = {"mw": mw_val, "mw_effective": mw_val + (2.0 / 3.0) * math.log10(scale) if scale > 0 else float("-inf"),
             "depth_km": depth, "mechanism": fault.mechanism, "strike_deg": fault.strike_deg, "dip_deg": fault.dip_deg,
             "rake_deg": fault.rake_deg, "slip_m": fault.slip_m * scale,
             "epicentre_row": (settings.size - 1) / 2.0 - n0 / settings.spacing_m,
             "epicentre_col": (settings.size - 1) / 2.0 + e0 / settings.spacing_m,
             "incidence_deg": incidence, "heading_deg": heading}
    return los, truth


def _noise(settings: SeriesSettings, dem: np.ndarray, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """[N, H, W] per-acquisition nuisance e_k (m of LOS) and the drawn stratified std (m/m)."""
    shape = (settings.size, settings.size)
    east, north = tile_coordinates(settings.size, settings.spacing_m)
    relief = dem - dem.mean()
    k_std = settings.stratified_std_m_per_km / 1000.0 / math.sqrt(2.0)
    ramp_std = settings.orbital_ramp_m_per_100km / 1.0e5
    out = np.empty((settings.n_dates, *shape), np.float64)
    for k in range(settings.n_dates):
        turb = turbulent_delay(shape, settings.spacing_m, sigma / math.sqrt(2.0), rng)
        strat = rng.standard_normal() * k_std * relief
        b, c = rng.standard_normal(2) * ramp_std
        floor_lo, floor_hi = settings.coherence_floor
        rho = floor_lo + (floor_hi - floor_lo) * smooth_unit_field(shape, settings.spacing_m, 1000.0, rng)
        tau = settings.coherence_tau_days[0] + (settings.coherence_tau_days[1] - settings.coherence_tau_days[0]) * rng.random()
        gamma = np.clip(temporal_coherence(settings.revisit_days, rho, tau), 0.05, 0.999)
        sd = cramer_rao_phase_std(gamma, settings.looks) * convention.WAVELENGTH_M / (4.0 * math.pi)
        out[k] = -(turb + strat + b * east + c * north) + sd * rng.standard_normal(shape)
    return out, k_std


def simulate_sample(sample_id: str, settings: SeriesSettings, seed: int, *, kind: str | None = None,
                    peak_m: float | None = None, turbulence_std_m: float | None = None, mw: float | None = None,
                    depth_km: float | None = None) -> SeriesSample:
    """One deterministic sample; keyword overrides fix its kind, peak |LOS| (m), noise level, Mw or depth."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"timeseries sample {sample_id}: kind must be one of {KINDS}, got {kind!r}")
    kind = kind or _choose_kind(settings, event_rng(seed, sample_id, "ts/kind"))
    s, k_e, onset, duration = _time_function(kind, settings, event_rng(seed, sample_id, "ts/time"))
    dem, _ = fractal_dem((settings.size, settings.size), settings.spacing_m, event_rng(seed, sample_id, "ts/dem"))
    los, truth = _deformation(settings, event_rng(seed, sample_id, "ts/source"), mw, depth_km, peak_m)
    if kind == "none":
        los = np.zeros_like(los)
    lo, hi = settings.turbulence_std_m
    arng = event_rng(seed, sample_id, "ts/atmosphere")
    u = arng.random()
    sigma = lo + (hi - lo) * u if turbulence_std_m is None else float(turbulence_std_m)
    e, k_std = _noise(settings, dem, sigma, arng)
    series = s[:, None, None] * los[None] + e - e[0][None]
    series[0] = 0.0
    peak = float(np.max(np.abs(los - los.mean())))
    truth.update({"kind": kind, "event_index": k_e, "onset_day": onset, "duration_days": duration,
                  "peak_abs_los_m": peak, "peak_abs_los_raw_m": float(np.max(np.abs(los))), "turbulence_std_m": sigma, "stratified_std_m_per_m": k_std,
                  "label": int(kind != "none" and peak >= settings.label_threshold_m)})
    if kind == "none":
        for key in ("mw", "mw_effective", "depth_km", "slip_m"):
            truth[key] = float("nan")
        truth["mechanism"] = ""
    return SeriesSample(sample_id, series.astype(np.float32), dem.astype(np.float32),
                        np.asarray(settings.event_days, np.float32), los.astype(np.float32), s.astype(np.float32),
                        {k: truth[k] for k in TRUTH_FIELDS})
