"""Area-average resizing: exact weights, phase-preserving complex mean, attenuation above the new Nyquist."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from quakesar.patches.resample import area_average, area_weights
from quakesar.patches.synthetic import make_interferogram
from quakesar.patches.tiling import tile_event


@pytest.mark.parametrize("n_in,n_out", [(2000, 256), (250, 32), (100, 16), (64, 8), (7, 7)])
def test_area_weights_are_exact(n_in: int, n_out: int) -> None:
    a = area_weights(n_in, n_out).toarray()
    assert np.allclose(a.sum(axis=1), 1.0)                 # each output pixel is a weighted mean
    assert np.allclose(a.sum(axis=0), n_out / n_in)        # each source pixel contributes its full area
    f = n_in / n_out
    k = n_out // 2
    lo, hi = k * f, (k + 1) * f
    j = np.arange(n_in)
    overlap = np.clip(np.minimum(j + 1, hi) - np.maximum(j, lo), 0, None) / f
    assert np.allclose(a[k], overlap)


@pytest.mark.parametrize("n_in,n_out,tol_px", [(256, 32, 1e-9), (250, 32, 0.02)])
def test_area_average_of_a_ramp_is_the_ramp_at_output_centres(n_in: int, n_out: int, tol_px: float) -> None:
    """Exact for an integer factor; within 0.02 px for a fractional one (straddling pixels count as constant)."""
    r = np.arange(n_in, dtype=np.float64)
    block = 3.0 * r[:, None] - 2.0 * r[None, :]
    out = area_average(block, n_out)
    centre = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5   # output pixel centre in source pixel coordinates
    assert np.abs(out - (3.0 * centre[:, None] - 2.0 * centre[None, :])).max() <= 5.0 * tol_px


def _fringe_patch(tmp_path: Path, cycles_per_px: float, window: int, size: int) -> tuple[np.ndarray, pd.DataFrame]:
    nu = cycles_per_px
    make_interferogram(tmp_path / "IW1.h5", window, window, phase=lambda r, c: 2 * np.pi * nu * c + 0.7 + 0 * r)
    tile_event({"id": "e", "latitude": 35.0, "longitude": 40.0, "magnitude": 6.0, "magnitude_type": "mww",
                "mw": 6.0, "depth_km": 10.0, "time": "2020-01-05T00:00:00Z"},
               [tmp_path / "IW1.h5"], {"window": window, "size": size}, tmp_path / "p.h5", tmp_path / "p.csv")
    with h5py.File(tmp_path / "p.h5") as f:
        return f["patches"][0], pd.read_csv(tmp_path / "p.csv")


def test_low_frequency_fringe_survives_with_its_phase(tmp_path: Path) -> None:
    window, size = 250, 32                    # non-integer factor 7.8125
    nu = 1.0 / 180.0                          # a fringe every 180 px: well below the new Nyquist (1/15.6 cyc/px)
    x, _ = _fringe_patch(tmp_path, nu, window, size)
    z = x[1] + 1j * x[2]
    centre = (np.arange(size) + 0.5) * window / size - 0.5
    expected = np.angle(np.exp(1j * (2 * np.pi * nu * centre + 0.7)))
    assert np.abs(np.angle(z * np.exp(-1j * expected[None, :]))).max() < 0.01
    assert np.abs(z).min() > 0.99 * np.sinc(nu * window / size) - 1e-6
    assert np.abs(z).min() > 0.98


def test_fringe_above_new_nyquist_is_attenuated_not_aliased(tmp_path: Path) -> None:
    window, size = 256, 32                    # factor 8: new Nyquist 1/16 cycle per source pixel
    nu = 0.3                                  # 4.8x the new Nyquist
    x, _ = _fringe_patch(tmp_path, nu, window, size)
    amp = np.abs(x[1] + 1j * x[2])
    f = window // size
    dirichlet = abs(np.sin(np.pi * nu * f) / (f * np.sin(np.pi * nu)))  # response of an f-sample box mean
    assert amp == pytest.approx(np.full_like(amp, dirichlet), abs=1e-4)
    assert amp.max() < 0.15                   # attenuated to 15 % of the unit input amplitude
    # plain decimation (what a resize without low-pass does) keeps a full-amplitude, aliased fringe
    c = np.arange(0, window, window // size)
    decimated = np.exp(1j * (2 * np.pi * nu * c + 0.7))
    assert np.abs(decimated).min() == pytest.approx(1.0)
    alias_freq = abs(((nu * 8 + 0.5) % 1.0) - 0.5)
    assert alias_freq > 0.1                   # i.e. decimation would show a spurious 0.4 cycle/px fringe
