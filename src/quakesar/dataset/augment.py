"""Geometric augmentations of radar-geometry patches with exactly consistent epicentre labels.

What a flip means geographically. A patch is a window of the radar image; its pixels have
ground positions given by the interferogram's geolocation. We define an augmented patch as a
*virtual* patch with the **same footprint and pixel geolocation** as the original but the image
content transformed. A horizontal flip (columns reversed) puts the content of ground point
``G(u, v)`` at ``G(-u, v)``: the ground is mirrored about the patch's along-track (azimuth)
axis through its centre, which in radar geometry is a mirror of the range direction (a
right-looking acquisition becomes a left-looking one). For the labels to stay true, the
epicentre must undergo the same mirror: the one at ``G(u_e, v_e)`` moves to ``G(-u_e, v_e)``.

Locally (patch-centred azimuthal-equidistant east/north plane, in which the tiling writes
``east_km``/``north_km``), the footprint is affine: ``G(u, v) = u a_c + v a_r`` with ``a_c`` the
half-width vector along increasing columns and ``a_r`` along increasing rows, both taken from
the four footprint corners (``a_c = (c01 + c11 - c00 - c10) / 4``, ``a_r = (c10 + c11 - c00 -
c01) / 4``). Any of the 8 dihedral image transforms is an integer matrix ``T`` on the normalised
image coordinates ``(u, v)``, so the epicentre offset becomes

    e' = B T B^-1 e,   B = [a_c a_r],

and ``distance = |e'|``, ``bearing = atan2(e'_east, e'_north)``. Because a radar grid is
skewed (heading and the right-look), ``a_c`` and ``a_r`` are generally not perpendicular, so the
mirror is oblique and the distance can change: it is the exact consequence of mirroring the
image, not a mirror about the north or east axis. Transforms (applied to ``x [C, H, W]``):
transpose first (``x[c, r] -> x[r, c]``), then flip rows (vertical), then flip columns
(horizontal): ``T = diag(sc, sr) @ P`` with ``P = [[0, 1], [1, 0]]`` when transposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quakesar.patches.geometry import CORNERS as CORNER_KEYS, axis_vectors  # noqa: F401  (re-exported)

@dataclass(frozen=True)
class Dihedral:
    """One of the 8 symmetries of the square: transpose, then flip rows, then flip columns."""

    transpose: bool = False
    flip_rows: bool = False
    flip_cols: bool = False

    @classmethod
    def from_index(cls, k: int) -> "Dihedral":
        """Element ``k`` in 0..7 (bit 0: flip columns, bit 1: flip rows, bit 2: transpose); 0 is the identity."""
        return cls(bool(k & 4), bool(k & 2), bool(k & 1))

    def matrix(self) -> np.ndarray:
        """The 2x2 map of normalised image coordinates ``(u, v)`` (u along columns, v along rows)."""
        p = np.array([[0.0, 1.0], [1.0, 0.0]]) if self.transpose else np.eye(2)
        return np.diag([-1.0 if self.flip_cols else 1.0, -1.0 if self.flip_rows else 1.0]) @ p

    def apply_image(self, x: np.ndarray) -> np.ndarray:
        """Transform the last two axes ``[..., H, W]`` of ``x`` (returns a contiguous copy)."""
        if self.transpose:
            x = np.swapaxes(x, -1, -2)
        if self.flip_rows:
            x = x[..., ::-1, :]
        if self.flip_cols:
            x = x[..., :, ::-1]
        return np.ascontiguousarray(x)


def transform_offset(east_km: float, north_km: float, basis: np.ndarray, t: Dihedral) -> tuple[float, float, float, float]:
    """New (east_km, north_km, distance_km, bearing_deg) of the epicentre after image transform ``t``."""
    e = np.array([east_km, north_km], dtype=np.float64)
    if t == Dihedral():
        e2 = e
    else:
        e2 = basis @ t.matrix() @ np.linalg.solve(basis, e)
    return float(e2[0]), float(e2[1]), float(np.hypot(e2[0], e2[1])), float(np.degrees(np.arctan2(e2[0], e2[1])) % 360.0)
