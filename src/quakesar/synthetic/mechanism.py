"""Fault source of one event: mechanism, orientation, size, slip and placement under the epicentre.

Per event (unless the ``simulate`` config fixes them): mechanism uniform among thrust, normal and
strike-slip; strike uniform in [0, 360); dip about 30 deg (thrust), 50 deg (normal), 85 deg
(strike-slip) with a 5 deg spread; rake 90 (thrust), -90 (normal), 0 or 180 (left/right-lateral
strike-slip) with a 10 deg spread. Length and width from Wells & Coppersmith (1994), uniform slip
from M0 = mu L W D (:mod:`quakesar.synthetic.scaling`).

Placement: the hypocentre (catalog epicentre at the catalog depth) lies on the fault plane at a
random fraction 0.25-0.75 of the length along strike and 0.4-0.8 of the width down-dip from the
top edge. If the top edge would be above the surface, the rectangle slides down-dip in its own
plane until the top edge is at depth 0 (the hypocentre stays on the plane); the slide is
recorded as ``downdip_shift_m``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np
from numpy.typing import ArrayLike

from quakesar.synthetic import scaling
from quakesar.synthetic.okada import okada_enu

MECHANISMS = ("thrust", "normal", "strike-slip")
_NOMINAL_DIP = {"thrust": (30.0, 15.0, 45.0), "normal": (50.0, 35.0, 65.0), "strike-slip": (85.0, 75.0, 90.0)}


@dataclass(frozen=True)
class FaultSource:
    """A uniform-slip rectangular fault in a local east/north frame centred on the epicentre (m)."""

    mechanism: str
    mw: float
    moment_nm: float
    strike_deg: float
    dip_deg: float
    rake_deg: float
    length_m: float
    width_m: float
    slip_m: float
    centroid_east_m: float
    centroid_north_m: float
    centroid_depth_m: float
    top_depth_m: float
    bottom_depth_m: float
    hypocentre_depth_m: float
    hypocentre_along_strike_fraction: float
    hypocentre_down_dip_fraction: float
    downdip_shift_m: float
    shear_modulus_pa: float
    poisson_ratio: float

    def displacement_enu(self, east: ArrayLike, north: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Surface displacement (east, north, up) in m at local coordinates (m from the epicentre)."""
        rake = math.radians(self.rake_deg)
        return okada_enu(east, north, centroid_east=self.centroid_east_m, centroid_north=self.centroid_north_m,
                         centroid_depth=self.centroid_depth_m, strike_deg=self.strike_deg, dip_deg=self.dip_deg,
                         length=self.length_m, width=self.width_m, strike_slip=self.slip_m * math.cos(rake),
                         dip_slip=self.slip_m * math.sin(rake), nu=self.poisson_ratio)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def draw_fault(event: Mapping[str, Any], cfg: Mapping[str, Any], rng: np.random.Generator,
               source: str = "event record") -> FaultSource:
    """The fault of one event from its record (``mw``, ``depth_km``) and the ``simulate`` config."""
    mw = scaling.event_mw(event, source)
    try:
        depth_m = 1000.0 * float(event["depth_km"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{source}: field 'depth_km' must be a number, got {event.get('depth_km')!r}") from None
    if not math.isfinite(depth_m):
        raise ValueError(f"{source}: field 'depth_km' must be finite, got {event.get('depth_km')!r}")
    depth_m = max(depth_m, 0.0)  # ComCat reports some shallow events slightly above sea level

    # Draw every variate unconditionally so that fixing one parameter does not change the others.
    u_mech, u_strike, n_dip, n_rake, u_sense, u_along, u_down = (
        rng.random(), rng.random(), rng.standard_normal(), rng.standard_normal(), rng.random(), rng.random(), rng.random())
    mechanism = cfg.get("mechanism", "random")
    if mechanism == "random":
        mechanism = MECHANISMS[min(int(u_mech * 3), 2)]
    if mechanism not in MECHANISMS:
        raise ValueError(f"simulate.mechanism: expected random or one of {MECHANISMS}, got {mechanism!r}")
    strike = cfg.get("strike_deg")
    strike = 360.0 * u_strike if strike is None else float(strike) % 360.0
    dip = cfg.get("dip_deg")
    if dip is None:
        nominal, lo, hi = _NOMINAL_DIP[mechanism]
        dip = float(np.clip(nominal + 5.0 * n_dip, lo, hi))
    dip = float(dip)
    if not 0.0 < dip <= 90.0:
        raise ValueError(f"simulate.dip_deg: expected 0 < dip <= 90, got {dip}")
    rake = cfg.get("rake_deg")
    if rake is None:
        base = {"thrust": 90.0, "normal": -90.0, "strike-slip": 0.0 if u_sense < 0.5 else 180.0}[mechanism]
        rake = base + 10.0 * float(np.clip(n_rake, -2.0, 2.0))
    rake = (float(rake) + 180.0) % 360.0 - 180.0

    mu = float(cfg.get("shear_modulus_pa", 3.0e10))
    nu = float(cfg.get("poisson_ratio", 0.25))
    length = scaling.rupture_length_m(mw, mechanism)
    width = scaling.rupture_width_m(mw, mechanism)
    slip = scaling.uniform_slip_m(mw, length, width, mu)

    a = 0.25 + 0.5 * u_along     # hypocentre along strike, fraction of L from the start
    b = 0.4 + 0.4 * u_down       # hypocentre down dip, fraction of W from the top edge
    s, d = math.radians(strike), math.radians(dip)
    strike_vec = np.array([math.sin(s), math.cos(s)])
    right_vec = np.array([math.cos(s), -math.sin(s)])   # horizontal, to the right of strike (dip direction)
    centroid = (0.5 - a) * length * strike_vec + (0.5 - b) * width * math.cos(d) * right_vec
    centroid_depth = depth_m + (0.5 - b) * width * math.sin(d)
    top = centroid_depth - 0.5 * width * math.sin(d)
    shift = 0.0
    if top < 0.0:
        shift = -top / math.sin(d)
        centroid = centroid + shift * math.cos(d) * right_vec
        centroid_depth += shift * math.sin(d)
        top = 0.0
    return FaultSource(
        mechanism=mechanism, mw=mw, moment_nm=scaling.moment_from_mw(mw), strike_deg=strike, dip_deg=dip,
        rake_deg=rake, length_m=length, width_m=width, slip_m=slip, centroid_east_m=float(centroid[0]),
        centroid_north_m=float(centroid[1]), centroid_depth_m=centroid_depth, top_depth_m=top,
        bottom_depth_m=centroid_depth + 0.5 * width * math.sin(d), hypocentre_depth_m=depth_m,
        hypocentre_along_strike_fraction=a, hypocentre_down_dip_fraction=b, downdip_shift_m=shift,
        shear_modulus_pa=mu, poisson_ratio=nu)
