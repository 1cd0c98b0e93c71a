"""Does a geocoded product come back as the training data would have shown it?

A training scene (the synthetic source and the native backend, reduction 32, 4x1 looks, IW2,
ascending, us7000df40) is geocoded the way a processor geocodes an interferogram (its LOS
truth, wrapped phase and coherence resampled onto a north-up 0.004 deg lat/lon grid through the
scene's own geolocation), written as GeoTIFFs, imported as a generic product, and its
pseudo-radar interferogram compared with the radar-geometry original:

* the pseudo-radar grid *is* the training grid: same heading, same azimuth pixel, the ground-range
  pixel of the scene centre (within 0.5 % of the radar grid's), about the same size;
* the LOS field read back at the same ground points agrees to 1 % of its peak at worst and 0.1 %
  rms (two bilinear resamplings), the wrapped phase's phasor agreement |mean exp(i dphi)| is above 0.95 where the
  scene is coherent, and the deformation peak lands on the same ground point;
* patches cut with the same window have the training footprint (window x training pixel).

The inverse geolocation (ground point -> radar pixel) interpolates the radar grid's pixel
coordinates from a subsampled set of its pixels (scipy griddata, linear).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from external_transfer_case import EVENT, GEOD, build_case, metrics
from quakesar.patches.tiling import tile_event


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    return build_case(tmp_path_factory.mktemp("transfer"))


@pytest.fixture(scope="module")
def measured(case):
    return metrics(case)


def test_the_pseudo_radar_grid_is_the_training_grid(measured) -> None:
    assert abs(measured["range_px_rel_diff"]) < 5e-3
    assert measured["pseudo_azimuth_px_m"] == pytest.approx(measured["radar_azimuth_px_m"], rel=1e-9)
    assert measured["heading_diff_deg"] == pytest.approx(0.0, abs=1e-6)
    (r0, c0), (r1, c1) = measured["radar_shape"], measured["pseudo_radar_shape"]
    assert abs(r1 - r0) <= 0.03 * r0 and abs(c1 - c0) <= 0.05 * c0


def test_fields_come_back_at_the_same_ground_points(measured) -> None:
    assert measured["compared_pixels"] > 0.8 * measured["core_pixels"]
    assert measured["los_max_abs_err_over_peak"] < 0.01 and measured["los_rms_err_over_peak"] < 0.001
    assert measured["coherent_pixels"] > 100 and measured["phasor_agreement_coherent"] > 0.95
    assert measured["peak_location_miss_m"] < 480.0  # within one training pixel


def test_patches_have_the_training_footprint(case) -> None:
    work, grid = case.work, case.grid
    window = 40
    cfg = {"window": window, "size": 8, "min_valid_fraction": 0.5}
    tile_event(EVENT, [work / "IW2.h5"], cfg, work / "radar.h5", work / "radar.csv")
    tile_event(EVENT, [work / "ext_geocoded_IW2.h5"], cfg, work / "ext.h5", work / "ext.csv")
    radar_p, ext_p = pd.read_csv(work / "radar.csv"), pd.read_csv(work / "ext.csv")
    assert len(ext_p) >= 0.6 * len(radar_p) > 0

    def sides(df):
        az = GEOD.inv(df.corner_00_lon.values, df.corner_00_lat.values, df.corner_10_lon.values, df.corner_10_lat.values)[2]
        rg = GEOD.inv(df.corner_00_lon.values, df.corner_00_lat.values, df.corner_01_lon.values, df.corner_01_lat.values)[2]
        return az, rg

    raz, rrg = sides(radar_p)
    eaz, erg = sides(ext_p)
    assert np.allclose(eaz, window * grid.azimuth_spacing_m, rtol=1e-3)
    assert np.allclose(raz, window * grid.azimuth_spacing_m, rtol=1e-2)
    # radar patches' ground-range width varies across the swath around the pseudo-radar's one width
    assert rrg.min() < erg.mean() < rrg.max() and abs(rrg.mean() - erg.mean()) < 0.03 * erg.mean()
    assert set(ext_p.flight_direction) == set(radar_p.flight_direction) == {"ascending"}
