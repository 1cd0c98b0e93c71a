"""A cheap synthetic SLC pair with known truth, in the scene layout of docs/architecture.md.

For the native backend's accuracy tests and its full-resolution benchmark only; the physical
simulator of the pipeline is :mod:`quakesar.synthetic` (Okada source, atmosphere, DEM). Here
every ingredient is analytic so that the truth is exact:

* circular Gaussian speckle ``n1, n2 ~ CN(0, 1)``, white (fully developed speckle at the Nyquist
  rate), drawn per 256-line chunk from :func:`quakesar.rng.event_rng` so that any block with a halo
  can be regenerated identically;
* reference ``s1 = n1``; secondary before misregistration
  ``s2' = (gamma n1 + sqrt(1 - gamma^2) n2) exp(-i phi)`` with ``phi = los_to_phase(truth_los) +
  phi_ref`` (so ``s1 conj(s2')`` has phase ``phi`` and coherence ``gamma``: physics-reference
  section 4, "exact simulation"); ``phi_ref`` is :func:`.reference_phase.reference_phase`;
* misregistration ``d``: the stored secondary is ``s2(x) = s2'(x - d)`` (exact FFT shift), i.e.
  what the reference shows at ``x`` the secondary shows at ``x + d``.

Written block by block, uncompressed, chunked by line blocks, so that a full-size subswath
(13 500 x 25 000) can be generated with a few GB of memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.fft as sfft

from quakesar.atomic import atomic_path
from quakesar.convention import HEADING_ASCENDING_DEG, WAVELENGTH_M, los_to_phase
from quakesar.h5io import open_h5
from quakesar.interferogram.native.coregister import shift_block
from quakesar.interferogram.native.reference_phase import reference_phase
from quakesar.rng import event_rng
from quakesar.tiepoints import TiePointGrid

Field = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rows[:, None], cols[None, :]) -> values
CHUNK = 256


def gaussian_uplift(peak_m: float, row0: float, col0: float, sigma_rows: float, sigma_cols: float) -> Field:
    """A Gaussian bump of LOS displacement (m, positive towards the satellite)."""
    def f(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return peak_m * np.exp(-0.5 * (((r - row0) / sigma_rows) ** 2 + ((c - col0) / sigma_cols) ** 2))
    return f


def constant(value: float) -> Field:
    """A constant field."""
    return lambda r, c: np.full(np.broadcast_shapes(np.shape(r), np.shape(c)), value, dtype=np.float64)


@dataclass
class PairSpec:
    """Everything that defines a synthetic pair; fields have Sentinel-1 IW2-like defaults."""

    lines: int
    samples: int
    truth_los: Field = field(default_factory=lambda: constant(0.0))
    coherence: Field = field(default_factory=lambda: constant(0.8))
    height: Field = field(default_factory=lambda: constant(0.0))
    misregistration: tuple[float, float] = (0.0, 0.0)
    bperp_m: float = 80.0
    near_range_m: float = 850_000.0
    range_pixel_spacing_m: float = 2.329562
    azimuth_pixel_spacing_m: float = 13.97
    incidence_near_deg: float = 36.2
    incidence_far_deg: float = 41.9
    full_samples: int | None = None  # incidence spans the full-swath width (defaults to ``samples``)
    event_id: str = "testevent"
    subswath: str = "IW2"
    seed: int = 1
    flight_direction: str = "ascending"
    truth_attrs: dict = field(default_factory=dict)

    def incidence_deg(self, c: np.ndarray) -> np.ndarray:
        width = (self.full_samples or self.samples) - 1
        return self.incidence_near_deg + (self.incidence_far_deg - self.incidence_near_deg) * c / max(width, 1)

    def slant_range(self, c: np.ndarray) -> np.ndarray:
        return self.near_range_m + self.range_pixel_spacing_m * np.asarray(c, dtype=np.float64)


def _noise(spec: PairSpec, r0: int, r1: int, c0: int, c1: int, which: str) -> np.ndarray:
    """CN(0,1) speckle on lines [r0, r1), columns [c0, c1) of an unbounded deterministic field."""
    pad = 64  # columns beyond the scene on each side exist too (the secondary sees them)
    width = spec.samples + 2 * pad
    out = np.empty((r1 - r0, c1 - c0), np.complex64)
    for ch in range(r0 // CHUNK, (r1 - 1) // CHUNK + 1):
        rng = event_rng(spec.seed, spec.event_id, f"native-testpair/{which}/{ch}")
        raw = rng.standard_normal((CHUNK, 2 * width), dtype=np.float32) * np.float32(np.sqrt(0.5))
        blk = raw[:, 0::2] + 1j * raw[:, 1::2]
        a, b = max(r0, ch * CHUNK), min(r1, (ch + 1) * CHUNK)
        out[a - r0:b - r0] = blk[a - ch * CHUNK:b - ch * CHUNK, c0 + pad:c1 + pad]
    return out


def _phase(spec: PairSpec, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    inc = spec.incidence_deg(c) + 0 * r
    phi = reference_phase(spec.slant_range(c), inc, spec.height(r, c), spec.bperp_m, WAVELENGTH_M, spec.near_range_m)
    return los_to_phase(spec.truth_los(r, c)) + phi


def _secondary_block(spec: PairSpec, r0: int, r1: int) -> np.ndarray:
    """Stored secondary lines [r0, r1): the aligned secondary shifted by the misregistration."""
    dr, dc = spec.misregistration
    halo = 32 + int(np.ceil(abs(dr)))
    cpad = 32 + int(np.ceil(abs(dc)))
    n_r = sfft.next_fast_len(r1 - r0 + 2 * halo)
    n_c = sfft.next_fast_len(spec.samples + 2 * cpad)
    top, left = (n_r - (r1 - r0)) // 2, (n_c - spec.samples) // 2
    if left > 64:
        raise ValueError("synthetic pair: misregistration too large for the noise margin")
    ra, rb, ca, cb = r0 - top, r0 - top + n_r, -left, n_c - left
    r = np.arange(ra, rb, dtype=np.float64)[:, None]
    c = np.arange(ca, cb, dtype=np.float64)[None, :]
    g = np.clip(spec.coherence(r, c), 0.0, 1.0).astype(np.float32)
    s = g * _noise(spec, ra, rb, ca, cb, "n1") + np.sqrt(1.0 - g * g) * _noise(spec, ra, rb, ca, cb, "n2")
    s *= np.exp(-1j * _phase(spec, r, c)).astype(np.complex64)
    # s2(x) = s2'(x - d): shift by -d (the whole offset; the FFT window is periodic and padded)
    shifted = shift_block(s, -dr, -dc)
    return shifted[top:top + (r1 - r0), left:left + spec.samples]


def _tiepoints(spec: PairSpec) -> dict[str, TiePointGrid]:
    tr = np.linspace(0, spec.lines - 1, 6)
    tc = np.linspace(0, spec.samples - 1, 11)
    R, C = np.meshgrid(tr, tc, indexing="ij")
    heading = HEADING_ASCENDING_DEG if spec.flight_direction == "ascending" else -168.0
    # a plane: azimuth along the heading, range to the right of it (right-looking), 10 km ~ 0.09 deg
    az_m, rg_m = R * spec.azimuth_pixel_spacing_m, C * spec.range_pixel_spacing_m / np.sin(np.radians(39.0))
    h = np.radians(heading)
    north = az_m * np.cos(h) - rg_m * np.sin(h)
    east = az_m * np.sin(h) + rg_m * np.cos(h)
    lat = 35.0 + north / 111_195.0
    lon = 25.0 + east / (111_195.0 * np.cos(np.radians(35.0)))
    return {"latitude": TiePointGrid(tr, tc, lat), "longitude": TiePointGrid(tr, tc, lon, is_longitude=True),
            "incidence": TiePointGrid(tr, tc, spec.incidence_deg(C)), "bperp_m": TiePointGrid(tr, tc, np.full_like(R, spec.bperp_m))}


def write_pair(path: str | Path, spec: PairSpec, block_lines: int = 512) -> None:
    """Write the pair, its geometry and its truth to ``path`` (atomically), block by block."""
    nr, nc = spec.lines, spec.samples
    chunks = (min(64, nr), nc)
    with atomic_path(path) as tmp, open_h5(tmp, "w") as f:
        ref = f.create_dataset("reference", (nr, nc), np.complex64, chunks=chunks)
        sec = f.create_dataset("secondary", (nr, nc), np.complex64, chunks=chunks)
        geo = f.create_group("geometry")
        hgt = geo.create_dataset("height", (nr, nc), np.float32, chunks=chunks)
        tru = f.create_group("truth")
        los = tru.create_dataset("los_displacement", (nr, nc), np.float32, chunks=chunks)
        cols = np.arange(nc, dtype=np.float64)[None, :]
        peak = 0.0
        for r0 in range(0, nr, block_lines):
            r1 = min(r0 + block_lines, nr)
            rows = np.arange(r0, r1, dtype=np.float64)[:, None]
            ref[r0:r1] = _noise(spec, r0, r1, 0, nc, "n1")
            sec[r0:r1] = _secondary_block(spec, r0, r1)
            hgt[r0:r1] = spec.height(rows, cols) + 0 * cols
            truth = spec.truth_los(rows, cols) + 0 * cols
            los[r0:r1] = truth
            peak = max(peak, float(np.max(np.abs(truth))))
        for name, grid in _tiepoints(spec).items():
            grid.write(geo, name)
        geo.create_dataset("slant_range_m", data=spec.slant_range(np.arange(nc)))
        geo.create_dataset("azimuth_time_s", data=np.arange(nr) * 2.055556e-3)
        heading = HEADING_ASCENDING_DEG if spec.flight_direction == "ascending" else -168.0
        f.attrs.update({
            "event_id": spec.event_id, "subswath": spec.subswath, "flight_direction": spec.flight_direction,
            "heading_deg": heading, "track": 102, "wavelength_m": WAVELENGTH_M,
            "range_pixel_spacing_m": spec.range_pixel_spacing_m, "azimuth_pixel_spacing_m": spec.azimuth_pixel_spacing_m,
            "near_range_m": spec.near_range_m, "reference_time": "2020-01-01T04:00:00Z",
            "secondary_time": "2020-01-13T04:00:00Z", "bperp_m": spec.bperp_m, "temporal_baseline_days": 12,
            "mode": "native-testpair", "reduction": 1, "seed": spec.seed,
            "misregistration_rows": spec.misregistration[0], "misregistration_cols": spec.misregistration[1],
            "epicentre_in_subswath": True, "epicentre_row": nr / 2, "epicentre_col": nc / 2,
            "scene_id": f"{spec.event_id}-testpair",
        })
        tru.attrs.update({"mechanism": "analytic test field", "peak_abs_los_m": peak,
                          **spec.truth_attrs})
