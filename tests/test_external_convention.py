"""Units and signs of external products, converted into quakesar's convention, in both directions.

Each product's convention is its documented one (the modules cite the documents; the HyP3 README
text is in tests/fixtures/external and is checked here for the sentences the conversions rely
on). quakesar's own convention (quakesar.convention): phase = -4 pi d / wavelength, d positive
towards the satellite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quakesar.convention import (WAVELENGTH_M, incidence_heading_from_los, los_from_look_angles, los_to_phase,
                                 los_unit_vector, phase_to_los)
from quakesar.external.readers import (coherence_01, direction_from_heading, displacement_to_quakesar,
                                       incidence_from_slant_range, phase_to_quakesar)
from quakesar.synthetic import s1geometry

FIX = Path(__file__).parent / "fixtures" / "external"
HEADINGS = np.array([-12.0, -168.0, -15.4, -163.2, 170.0])
INCIDENCES = np.array([30.6, 36.0, 39.2, 41.9, 46.0])


def test_incidence_and_heading_invert_the_los_vector() -> None:
    inc, head = np.meshgrid(INCIDENCES, HEADINGS)
    v = los_unit_vector(inc, head)
    got_inc, got_head = incidence_heading_from_los(v[..., 0], v[..., 1], v[..., 2])
    np.testing.assert_allclose(got_inc, inc, atol=1e-10)
    np.testing.assert_allclose((got_head - head + 180) % 360 - 180, 0.0, atol=1e-10)
    # unnormalised vectors give the same angles
    got_inc2, got_head2 = incidence_heading_from_los(3 * v[..., 0], 3 * v[..., 1], 3 * v[..., 2])
    np.testing.assert_allclose(got_inc2, inc, atol=1e-10)


def test_hyp3_look_angles_match_the_readme_definition() -> None:
    """HyP3: theta from the horizontal (90 deg - incidence), phi from east towards north of the vector
    pointing back to the sensor, i.e. the horizontal direction opposite to the right-looking look
    direction (heading + 90 deg clockwise from north): phi = 180 deg - heading."""
    readme = (FIX / "hyp3" / "S1_136232_IW2_20200604_20200616_VV_INT80_663F_README.md.txt").read_text()
    assert "The look vector refers to the look direction back towards the sensor" in readme
    assert "angle between the horizontal surface and the look vector" in readme
    assert "angle between the East direction and the projection of the look vector" in readme
    for h in HEADINGS:
        for inc in INCIDENCES:
            theta, phi = np.radians(90.0 - inc), np.radians(180.0 - h)
            np.testing.assert_allclose(los_from_look_angles(theta, phi), los_unit_vector(inc, h), atol=1e-12)
    # ascending: the satellite is west of its target, so the vector back to it points west and up
    v = los_from_look_angles(np.radians(50.0), np.radians(180.0 + 12.0))
    assert v[0] < 0 and v[2] > 0


@pytest.mark.parametrize("d_m", [0.03, -0.02])
def test_phase_conventions_both_ways(d_m: float) -> None:
    """A product counting range increase as positive phase has quakesar's sign; the other is negated."""
    ours = los_to_phase(d_m)
    assert phase_to_quakesar(ours, "range_increase_positive") == pytest.approx(ours)
    assert phase_to_quakesar(-ours, "range_decrease_positive") == pytest.approx(ours)
    assert phase_to_los(phase_to_quakesar(-ours, "range_decrease_positive")) == pytest.approx(d_m)
    # uplift (towards the satellite) is a negative phase in quakesar's convention
    assert (ours < 0) == (d_m > 0)
    with pytest.raises(ValueError, match="phase convention"):
        phase_to_quakesar(ours, "positive")


def test_hyp3_documented_signs_are_quakesars() -> None:
    """HyP3: "Positive values indicate movement away from the sensor" (unwrapped) and "positive values
    indicate movement towards the sensor" (LOS displacement): both quakesar's, no change."""
    gamma = (FIX / "ecat" / "S1AA_20240707T100141_20240719T100140_VVR012_INT80_G_ueF_C070.README.md").read_text()
    assert "Positive values indicate movement away from the sensor" in gamma
    assert "Positive values indicate movement towards the sensor (such as uplift)" in gamma
    away = -0.01  # 1 cm of subsidence seen in the LOS
    unw = los_to_phase(away)
    assert unw > 0  # positive unwrapped phase = away, as HyP3 documents
    assert phase_to_los(phase_to_quakesar(unw, "range_increase_positive")) == pytest.approx(away)
    assert displacement_to_quakesar(np.array(0.02), "towards_positive") == pytest.approx(0.02)


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("cm", 0.01), ("mm", 0.001)])
def test_displacement_units_and_sign_both_ways(units: str, scale: float) -> None:
    raw = np.array([12.0, -7.5])
    np.testing.assert_allclose(displacement_to_quakesar(raw, "towards_positive", units), raw * scale)
    np.testing.assert_allclose(displacement_to_quakesar(raw, "away_positive", units), -raw * scale)
    with pytest.raises(ValueError, match="units"):
        displacement_to_quakesar(raw, "towards_positive", "inch")


def test_coherence_0_255_and_0_1() -> None:
    u8 = np.array([[0.0, 128.0, 255.0]])
    got, note = coherence_01(u8, "cc.tif")
    np.testing.assert_allclose(got, u8 / 255.0)
    assert "255" in note
    f = np.array([[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(coherence_01(f, "cc.tif")[0], f)
    with pytest.raises(ValueError, match="cc.tif.*neither 0-1 nor 0-255"):
        coherence_01(np.array([[300.0]]), "cc.tif")


def test_incidence_from_the_hyp3_parameter_file_geometry() -> None:
    """Law of cosines on the real ISCE2 burst product's centre slant range; compared with quakesar's
    own spherical geometry (s1geometry, mean Earth radius) evaluated independently."""
    inc = incidence_from_slant_range(875499.4301171803, 693000.0, 6337286.638938101)
    assert 36.2 < inc < 41.9  # inside IW2, as the product is
    ref = float(s1geometry.incidence_from_ground(s1geometry.ground_from_slant_range(875499.43)))
    assert inc == pytest.approx(ref, abs=1.0)  # different Earth radius (6337 vs 6371 km)
    assert direction_from_heading(-12.0) == "ascending" and direction_from_heading(-167.4) == "descending"
    assert WAVELENGTH_M == pytest.approx(0.0554658, abs=1e-7)
