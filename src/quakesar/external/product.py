"""An external geocoded interferogram in memory, already in quakesar's units and signs.

Every reader (:mod:`quakesar.external.readers`) returns a :class:`GeocodedProduct`: rasters on
the product's own map grid (:class:`quakesar.external.raster.Georef`) converted to quakesar's
conventions (:mod:`quakesar.convention`): phases in radians with ``phase = -4 pi d / wavelength``
(positive = range increase, away from the satellite), LOS displacement in metres positive towards
the satellite, coherence 0..1, the LOS geometry as per-pixel incidence (deg) and platform heading
(deg clockwise from north). What was converted and how is listed in ``conversions`` and ends up
in the canonical file's ``backend_parameters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quakesar.convention import WAVELENGTH_M, wrap
from quakesar.external.raster import Georef


@dataclass
class GeocodedProduct:
    """One external interferogram on its own geocoded grid (see module docstring)."""

    product_id: str
    layout: str
    georef: Georef
    coherence: np.ndarray
    valid: np.ndarray  # bool
    incidence_deg: np.ndarray  # per pixel, NaN where unknown
    heading_deg: float
    reference_time: str
    secondary_time: str
    flight_direction: str
    track: int  # -1 when the product does not say
    subswath: str
    wrapped: np.ndarray | None = None
    unwrapped: np.ndarray | None = None
    los_displacement: np.ndarray | None = None
    wavelength_m: float = WAVELENGTH_M
    looks_range: int | None = None
    looks_azimuth: int | None = None
    source_files: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    conversions: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.georef.shape

    def phase(self) -> np.ndarray:
        """Wrapped phase (rad, quakesar's sign): the product's wrapped phase, else its unwrapped phase
        wrapped, else the phase of its LOS displacement (:func:`quakesar.convention.los_to_phase`)."""
        from quakesar.convention import los_to_phase

        if self.wrapped is not None:
            return self.wrapped
        if self.unwrapped is not None:
            return wrap(self.unwrapped)
        assert self.los_displacement is not None
        return wrap(los_to_phase(self.los_displacement, self.wavelength_m))

    def check(self) -> None:
        """Shapes agree, ranges are sane; raises ValueError naming the product."""
        shape = self.shape
        for name in ("coherence", "valid", "incidence_deg", "wrapped", "unwrapped", "los_displacement"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != shape:
                raise ValueError(f"{self.product_id}: raster {name} has shape {arr.shape}, expected {shape}")
        if self.wrapped is None and self.unwrapped is None and self.los_displacement is None:
            raise ValueError(f"{self.product_id}: no phase or displacement raster")
        coh = self.coherence[self.valid]
        if coh.size and (np.nanmin(coh) < -1e-6 or np.nanmax(coh) > 1 + 1e-6):
            raise ValueError(f"{self.product_id}: coherence outside 0..1 after conversion "
                             f"({np.nanmin(coh):.3f}..{np.nanmax(coh):.3f})")
        inc = self.incidence_deg[self.valid & np.isfinite(self.incidence_deg)]
        if inc.size and (inc.min() < 5 or inc.max() > 75):
            raise ValueError(f"{self.product_id}: incidence {inc.min():.1f}..{inc.max():.1f} deg is not a "
                             "Sentinel-1 IW geometry (20-50 deg); check the look-vector files and their units")
        if not self.valid.any():
            raise ValueError(f"{self.product_id}: no valid pixel")
        if self.flight_direction not in ("ascending", "descending"):
            raise ValueError(f"{self.product_id}: flight direction {self.flight_direction!r}")
