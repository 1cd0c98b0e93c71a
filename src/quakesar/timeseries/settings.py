"""The ``timeseries`` config section as a typed, validated object (defaults = the schema's).

All lengths in metres, times in days. ``turbulence_std_m`` is the standard deviation of the turbulent
delay of one *interferogram* (a difference of two acquisitions) within the tile, the noise level of
:mod:`quakesar.detectability`; each acquisition's own turbulent delay has ``1/sqrt(2)`` of it, so a pair of
the series has exactly the configured noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

KINDS = ("coseismic", "slow_slip", "none")


@dataclass(frozen=True)
class SeriesSettings:
    """Simulation settings of one synthetic series (see the module docstring for units)."""

    n_dates: int = 11
    size: int = 64
    spacing_m: float = 100.0
    revisit_days: float = 12.0
    kinds: Mapping[str, float] = field(default_factory=lambda: {"coseismic": 0.5, "slow_slip": 0.15, "none": 0.35})
    turbulence_std_m: tuple[float, float] = (0.002, 0.02)
    stratified_std_m_per_km: float = 0.0075
    orbital_ramp_m_per_100km: float = 0.005
    peak_m: tuple[float, float] | None = (0.0005, 0.05)
    mw: tuple[float, float] = (4.0, 6.0)
    gutenberg_richter_b: float = 1.0
    depth_km: tuple[float, float] = (1.0, 15.0)
    epicentre_fraction: float = 0.25
    coherence_floor: tuple[float, float] = (0.2, 0.7)
    coherence_tau_days: tuple[float, float] = (10.0, 60.0)
    looks: float = 40.0
    label_threshold_m: float = 0.001

    def __post_init__(self) -> None:
        _check(self.n_dates >= 3, "n_dates", ">= 3", self.n_dates)
        _check(self.size >= 16 and self.size % 8 == 0, "size", "a multiple of 8, >= 16", self.size)
        _check(self.spacing_m > 0, "spacing_m", "> 0", self.spacing_m)
        _check(set(self.kinds) <= set(KINDS) and sum(self.kinds.values()) > 0
               and all(v >= 0 for v in self.kinds.values()), "kinds", f"non-negative weights of {KINDS}", dict(self.kinds))
        for name in ("turbulence_std_m", "mw", "depth_km", "coherence_floor", "coherence_tau_days"):
            lo, hi = getattr(self, name)
            _check(0 <= lo <= hi, name, "[min, max] with 0 <= min <= max", [lo, hi])
        if self.peak_m is not None:
            _check(0 < self.peak_m[0] <= self.peak_m[1], "peak_m", "[min, max] with 0 < min <= max, or null", self.peak_m)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> "SeriesSettings":
        """From the ``timeseries.simulate`` config section; unknown keys are an error naming the key."""
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"timeseries.simulate: unknown keys {unknown}; expected some of {sorted(known)}")
        for key in ("turbulence_std_m", "mw", "depth_km", "coherence_floor", "coherence_tau_days", "peak_m"):
            if section.get(key) is not None:
                section[key] = tuple(float(v) for v in section[key])
        return cls(**section)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kinds"] = dict(self.kinds)
        return out

    @property
    def event_days(self) -> list[float]:
        """Acquisition times (days after the first acquisition)."""
        return [k * self.revisit_days for k in range(self.n_dates)]


def _check(ok: bool, key: str, expected: str, got: Any) -> None:
    if not ok:
        raise ValueError(f"timeseries.simulate.{key}: expected {expected}, got {got!r}")
