"""Atmospheric and orbital nuisance signals of a repeat-pass pair, as differential slant delays (m).

All three are *differential* (secondary minus reference) apparent slant-range delays: a
positive delay lengthens the secondary's range, i.e. looks like motion away from the
satellite (negative LOS displacement).

* Turbulent troposphere: a Gaussian field whose one-dimensional (profile) power spectrum falls as
  ``k**(-8/3)`` for wavelengths shorter than 1.5 km and ``k**(-5/3)`` from 1.5 to 50 km, flat
  (saturated) beyond 50 km (Hanssen 2001 eq. 4.7.28; Kolmogorov 3-D and 2-D turbulence). The
  isotropic 2-D power spectrum is therefore ``k**(-11/3)`` and ``k**(-8/3)`` (a profile of an
  isotropic field with 2-D exponent b has 1-D exponent b - 1). The field is scaled to a standard
  deviation drawn uniformly from ``simulate.turbulence_std_m`` (default 0.5-2 cm).
* Stratified troposphere: ``K * h`` with K ~ N(0, ``simulate.stratified_std_m_per_km`` / 1000)
  (m of delay per m of height; Parker's ~0.7 cm per km of relief).
* Orbital ramp: ``b * (s - s_c) + c * (g - g_c)`` (along/cross-track, m) with b, c ~
  N(0, ``simulate.orbital_ramp_m_per_100km`` / 1e5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quakesar.synthetic.spectral import spectral_field

TURBULENCE_BREAK_WAVELENGTH_M = 1500.0
TURBULENCE_OUTER_WAVELENGTH_M = 50_000.0
TURBULENCE_SHORT_EXPONENT_1D = 8.0 / 3.0
TURBULENCE_LONG_EXPONENT_1D = 5.0 / 3.0


def turbulence_psd(k: np.ndarray) -> np.ndarray:
    """Relative isotropic 2-D PSD of the turbulent delay at radial wavenumber k (cycles/m), continuous at the
    breaks; exponents are the 1-D ones plus one."""
    k1 = 1.0 / TURBULENCE_BREAK_WAVELENGTH_M
    k0 = 1.0 / TURBULENCE_OUTER_WAVELENGTH_M
    kk = np.maximum(k, k0)
    long = kk ** (-(TURBULENCE_LONG_EXPONENT_1D + 1.0))
    short = k1 ** (-(TURBULENCE_LONG_EXPONENT_1D + 1.0)) * (kk / k1) ** (-(TURBULENCE_SHORT_EXPONENT_1D + 1.0))
    return np.where(kk < k1, long, short)


def turbulent_delay(shape: tuple[int, int], spacing_m: float, std_m: float, rng: np.random.Generator) -> np.ndarray:
    """Turbulent differential delay (m) on a regular grid, standard deviation ``std_m``."""
    return std_m * spectral_field(shape, spacing_m, turbulence_psd, rng)


@dataclass(frozen=True)
class AtmosphereParameters:
    """Scalars of one pair's nuisance model (recorded in the scene's truth attributes)."""

    turbulence_std_m: float
    stratified_m_per_m: float
    ramp_along_m_per_m: float
    ramp_cross_m_per_m: float
    ramp_origin_s_m: float
    ramp_origin_g_m: float

    def ramp(self, s: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Orbital ramp delay (m) at frame points (s, g)."""
        return self.ramp_along_m_per_m * (s - self.ramp_origin_s_m) + self.ramp_cross_m_per_m * (g - self.ramp_origin_g_m)


def draw_atmosphere(cfg: dict, rng: np.random.Generator, origin_s_m: float, origin_g_m: float) -> AtmosphereParameters:
    """Draw the pair's atmospheric/orbital scalars from the ``simulate`` config."""
    lo, hi = (float(v) for v in cfg.get("turbulence_std_m", (0.005, 0.02)))
    if lo < 0 or hi < lo:
        raise ValueError(f"simulate.turbulence_std_m: expected [min, max] with 0 <= min <= max, got {[lo, hi]}")
    std = lo + (hi - lo) * rng.random()
    k = rng.standard_normal() * float(cfg.get("stratified_std_m_per_km", 0.0075)) / 1000.0
    ramp_sigma = float(cfg.get("orbital_ramp_m_per_100km", 0.005)) / 1.0e5
    b, c = rng.standard_normal(2) * ramp_sigma
    return AtmosphereParameters(std, k, float(b), float(c), origin_s_m, origin_g_m)
