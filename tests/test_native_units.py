"""Unit tests of the native backend's building blocks against direct (slow, obvious) computations."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from quakesar.interferogram.native.baseline import coherence_uniform, goldstein_loop
from quakesar.interferogram.native.coherence import box_sum, coherence
from quakesar.interferogram.native.goldstein import goldstein, triangular_weights
from quakesar.interferogram.native.multilook import multilook, multilooked_grid, square_pixel_looks
from quakesar.interferogram.native.pipeline import grid_rows
from quakesar.interferogram.native.reference_phase import flatten, reference_phase
from quakesar.interferogram.native.scene import SceneError, open_scene
from quakesar.interferogram.native.synthetic_pair import PairSpec, write_pair
from quakesar.interferogram.native.unwrap import reference_far_field, unwrap_phase
from quakesar.tiepoints import TiePointGrid

RNG = np.random.default_rng(42)


@pytest.mark.parametrize("win", [1, 2, 3, 10])
def test_box_sum_equals_direct_sum(win):
    x = RNG.standard_normal((7, 40)) + 1j * RNG.standard_normal((7, 40))
    got = box_sum(x, win, axis=1)
    left = win // 2
    for i in range(40):
        lo, hi = max(0, i - left), min(40, i - left + win)
        np.testing.assert_allclose(got[:, i], x[:, lo:hi].sum(axis=1), atol=1e-12)


def test_box_sum_keeps_precision_on_long_lines():
    """Running sums over 25 000 float32 samples of large values give 10-sample windows to float32 rounding."""
    x = (1e4 + RNG.random(25_000)).astype(np.float32)[None, :]
    got = box_sum(x, 10, axis=1)[0, 5000:5010]
    want = [x[0, i - 5:i + 5].astype(np.float64).sum() for i in range(5000, 5010)]
    np.testing.assert_allclose(got, want, rtol=2e-7)


def test_coherence_matches_uniform_filter_and_bounds():
    s1 = (RNG.standard_normal((30, 50)) + 1j * RNG.standard_normal((30, 50))).astype(np.complex64)
    s2 = (0.7 * s1 + 0.7 * (RNG.standard_normal((30, 50)) + 1j * RNG.standard_normal((30, 50)))).astype(np.complex64)
    z = s1 * np.conj(s2)
    p1, p2 = np.abs(s1) ** 2, np.abs(s2) ** 2
    got = coherence(z, p1, p2, 3, 10)
    want = coherence_uniform(z, p1, p2, 3, 10)
    np.testing.assert_allclose(got[2:-2, 6:-6], want[2:-2, 6:-6], atol=1e-5)
    assert np.allclose(coherence(p1.astype(np.complex64), p1, p1, 3, 10), 1.0, atol=1e-5)
    assert got.dtype == np.float32 and got.min() >= 0 and got.max() <= 1


def test_multilook_and_tiepoint_centres():
    x = np.arange(6 * 9, dtype=np.float32).reshape(6, 9)
    ml = multilook(x, 2, 4)
    assert ml.shape == (3, 2)
    assert ml[1, 1] == pytest.approx(x[2:4, 4:8].mean())
    grid = TiePointGrid(np.array([0.0, 10.0]), np.array([0.0, 100.0]), np.array([[0.0, 100.0], [10.0, 110.0]]))
    g2 = multilooked_grid(grid, 2, 4)
    # multilooked pixel (k, m) is centred on full-resolution (2k + 0.5, 4m + 1.5)
    assert g2.at(3.0, 5.0) == pytest.approx(grid.at(6.5, 21.5))


@pytest.mark.parametrize("inc,rg_looks,expected", [(39.5, 4, 1), (39.5, 10, 3), (34.1, 10, 3), (44.1, 10, 2)])
def test_square_pixel_rule(inc, rg_looks, expected):
    """SNAP's square-pixel rule (physics-reference 5.2): 4 -> 1 look, coherence window 10 -> 3 (IW1/IW2) or 2 (IW3)."""
    assert square_pixel_looks(rg_looks, 2.329562, 13.97, inc) == expected


def test_goldstein_equals_per_patch_loop():
    r, c = np.mgrid[0:60, 0:90]
    z = np.exp(1j * (0.004 * (r - 25) ** 2 + 0.1 * c)) + 0.5 * (RNG.standard_normal(r.shape) + 1j * RNG.standard_normal(r.shape))
    for alpha, n in ((1.0, 16), (0.5, 32)):
        fast = goldstein(z, alpha=alpha, fft_size=n, threads=2)
        slow = goldstein_loop(z, alpha=alpha, fft_size=n)
        assert np.max(np.abs(fast - slow)) < 1e-5 * np.max(np.abs(slow))
        patchwise = goldstein_loop(z, alpha=alpha, fft_size=n, pixel_loops=False)  # the benchmark's baseline
        assert np.max(np.abs(patchwise - slow)) < 1e-5 * np.max(np.abs(slow))


def test_goldstein_denoises_fringes_and_keeps_them():
    r, c = np.mgrid[0:192, 0:256]
    clean = np.exp(1j * (0.25 * r + 0.125 * c))  # 4 and 2 cycles per 32... integer frequencies per 64-px patch
    noisy = clean + 0.8 * (RNG.standard_normal(r.shape) + 1j * RNG.standard_normal(r.shape))
    out = goldstein(noisy)
    err_in = np.angle(noisy * np.conj(clean))
    err_out = np.angle(out * np.conj(clean))
    assert np.std(err_out) < 0.4 * np.std(err_in)
    assert abs(np.mean(err_out)) < 0.02
    w = triangular_weights(64)
    assert w.shape == (64, 64) and w[31, 31] == w[32, 32] and w.min() > 0


def test_goldstein_coherence_mask_and_errors():
    z = np.exp(1j * np.zeros((80, 80)))
    coh = np.ones((80, 80), np.float32)
    coh[:, :40] = 0.1
    spike = z.copy()
    spike[:, :40] = 1j  # phase pi/2 where coherence is low
    masked = goldstein(spike, coherence=coh, use_coherence_mask=True, fft_size=32)
    unmasked = goldstein(spike, coherence=coh, use_coherence_mask=False, fft_size=32)
    leak_masked = np.abs(np.angle(masked[:, 40:48])).mean()
    leak_unmasked = np.abs(np.angle(unmasked[:, 40:48])).mean()
    assert leak_masked < 0.5 * leak_unmasked  # the low-coherence half does not leak into its neighbours
    with pytest.raises(ValueError, match="fft_size"):
        goldstein(z, fft_size=30)
    with pytest.raises(ValueError, match="coherence raster"):
        goldstein(z, use_coherence_mask=True)


def test_reference_phase_terms():
    """Zero at the range origin on the ellipsoid; linear in height with slope -(4 pi/lambda) B/(R sin theta)."""
    lam, b, r, th = 0.0554658, 100.0, 850_000.0, 39.0
    assert reference_phase(np.array([r]), th, 0.0, b, lam, r)[0] == 0.0
    dphi = reference_phase(np.array([r]), th, 100.0, b, lam, r)[0]
    assert dphi == pytest.approx(-(4 * np.pi / lam) * b * 100.0 / (r * np.sin(np.radians(th))), rel=1e-6)
    z = np.ones((1, 3), np.complex64)
    flatten(z, np.array([[0.0, np.pi / 2, -1.0]], np.float32))
    np.testing.assert_allclose(np.angle(z), [[0.0, -np.pi / 2, 1.0]], atol=1e-6)


def test_grid_rows_equals_tiepoint_raster():
    grid = TiePointGrid(np.array([0.0, 7.0, 20.0]), np.array([0.0, 13.0, 30.0, 44.0]), RNG.random((3, 4)) * 10)
    fast = grid_rows(grid, 3, 25, 50)  # includes extrapolation beyond the last tie row and column
    np.testing.assert_allclose(fast, grid.raster(slice(3, 25), slice(0, 50)), atol=1e-5)


@pytest.mark.parametrize("method", ["skimage", "snaphu"])
def test_unwrap_is_congruent_and_recovers_a_ramp(method, caplog):
    if method == "snaphu":
        pytest.importorskip("snaphu")
    r, c = np.mgrid[0:64, 0:96]
    true = 0.3 * c + 0.1 * r
    wrapped = np.angle(np.exp(1j * true))
    unw = unwrap_phase(wrapped, np.full(true.shape, 0.9, np.float32), method, nlooks=4)
    k = (unw - wrapped) / (2 * np.pi)
    assert np.allclose(k, np.round(k), atol=1e-3)
    assert np.allclose(np.diff(unw, axis=1), 0.3, atol=1e-3)
    licence_warned = any("non-commercial" in rec.getMessage() for rec in caplog.records)
    assert licence_warned == (method == "snaphu")  # SNAPHU's licence is made visible on every use
    with pytest.raises(ValueError, match="interferogram.unwrap"):
        unwrap_phase(wrapped, np.ones_like(wrapped), "magic")


def test_far_field_reference():
    unw = np.full((50, 50), 5.0, np.float32)
    unw[20:30, 20:30] = 9.0
    out, off = reference_far_field(unw, np.ones_like(unw))
    assert off == 5.0 and out[0, 0] == 0.0 and out[25, 25] == 4.0


def test_scene_validation_names_file_and_field(tmp_path):
    write_pair(tmp_path / "s.h5", PairSpec(lines=40, samples=60))
    with h5py.File(tmp_path / "s.h5", "a") as f:
        del f["geometry/height"]
        del f.attrs["heading_deg"]
    with pytest.raises(SceneError, match=r"s\.h5.*geometry/height"):
        open_scene(tmp_path / "s.h5")
    with pytest.raises(SceneError, match="does not exist"):
        open_scene(tmp_path / "missing.h5")


def test_incoherent_scene_is_processed_with_a_recorded_coregistration_failure(tmp_path):
    """An offshore (fully decorrelated) scene has no speckle to correlate: the job still writes its
    interferogram, records why the offset is zero, and the coherence says it is noise."""
    from quakesar.interferogram.canonical import read_interferogram
    from quakesar.interferogram.native.pipeline import process_scene
    from quakesar.interferogram.native.synthetic_pair import constant

    write_pair(tmp_path / "sea.h5", PairSpec(lines=256, samples=512, coherence=constant(0.0)))
    process_scene(tmp_path / "sea.h5", tmp_path / "ifg.h5", {})
    ifg = read_interferogram(tmp_path / "ifg.h5")
    status = ifg.attrs["backend_parameters"]["coregistration"]["status"]
    assert status.startswith("failed, zero offset used: coregistration failed")
    assert float(np.median(ifg.coherence)) < 0.35
