"""Gaussian random fields with a prescribed isotropic power spectrum (FFT synthesis).

White Gaussian noise is filtered in the Fourier domain by ``sqrt(P(k))`` (k = radial
wavenumber, cycles/m) and transformed back; the result is normalised to zero mean and unit
standard deviation (the caller scales it). Used for the fractal DEM, the turbulent troposphere
and smooth land-cover fields. Reference: e.g. Hanssen (2001), *Radar Interferometry*, sec. 4.7.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.fft


def radial_wavenumber(shape: tuple[int, int], spacing_m: float) -> np.ndarray:
    """|k| (cycles per metre) on the FFT grid of ``shape`` with pixel ``spacing_m``."""
    ky = np.fft.fftfreq(shape[0], d=spacing_m)
    kx = np.fft.fftfreq(shape[1], d=spacing_m)
    return np.hypot(ky[:, None], kx[None, :])


def spectral_field(shape: tuple[int, int], spacing_m: float, psd: Callable[[np.ndarray], np.ndarray],
                   rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-std float32 field whose 2-D power spectrum is proportional to ``psd(|k|)``.

    Synthesised on a grid padded to fast FFT sizes (periodic there) and cropped to ``shape``.
    """
    out_shape = shape
    shape = (scipy.fft.next_fast_len(shape[0], real=True), scipy.fft.next_fast_len(shape[1], real=True))
    ky = np.fft.fftfreq(shape[0], d=spacing_m)
    kx = np.fft.rfftfreq(shape[1], d=spacing_m)
    k = np.hypot(ky[:, None], kx[None, :])
    amp = np.sqrt(np.maximum(psd(np.where(k > 0, k, np.inf)), 0.0)).astype(np.float32)
    amp[0, 0] = 0.0
    noise = rng.standard_normal(shape, dtype=np.float32)
    spec = scipy.fft.rfft2(noise)
    spec *= amp
    field = scipy.fft.irfft2(spec, s=shape)[:out_shape[0], :out_shape[1]]
    field -= field.mean()
    std = float(field.std())
    return field / (std if std > 0 else 1.0)


def powerlaw_psd(exponent: float, corner_wavelength_m: float | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``P(k) = k**(-exponent)``, flat for wavelengths longer than ``corner_wavelength_m``."""
    k0 = 0.0 if corner_wavelength_m is None else 1.0 / corner_wavelength_m

    def psd(k: np.ndarray) -> np.ndarray:
        return np.maximum(k, k0) ** (-exponent)

    return psd


def smooth_unit_field(shape: tuple[int, int], spacing_m: float, correlation_m: float,
                      rng: np.random.Generator) -> np.ndarray:
    """A field in [0, 1] with Gaussian spectrum of correlation length ``correlation_m`` (Gaussian copula -> uniform)."""
    from scipy.special import ndtr

    field = spectral_field(shape, spacing_m, lambda k: np.exp(-(np.pi * k * correlation_m) ** 2), rng)
    return ndtr(field)
