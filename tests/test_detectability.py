"""The project-wide detectability rule: peak truth LOS >= 3 x turbulence std."""

from __future__ import annotations

import math

from quakesar.detectability import FACTOR, Detectability, from_truth_attrs, is_detectable


def test_threshold_is_three_sigma() -> None:
    assert FACTOR == 3.0
    assert is_detectable(0.03, 0.01)
    assert not is_detectable(0.0299, 0.01)
    assert is_detectable(0.001, 0.0)
    assert not is_detectable(float("nan"), 0.01)


def test_combines_subswaths_by_peak() -> None:
    d = from_truth_attrs([{"peak_abs_los_m": 0.01, "turbulence_std_m": 0.01},
                          {"peak_abs_los_m": 0.05, "turbulence_std_m": 0.01}, {}])
    assert d.peak_abs_los_m == 0.05 and math.isclose(d.snr, 5.0) and d.detectable
    assert not Detectability(float("nan"), float("nan")).detectable
