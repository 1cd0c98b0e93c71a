"""Read access to a synthetic scene file ``results/scenes/{event}/{iw}.h5`` (docs/architecture.md, "Synthetic scene").

The SLCs stay on disk (h5py datasets, read block by block); the geometry that is small (tie-point
grids, 1-D slant range) is read at open time. Every missing dataset or attribute is reported with the
file name and the field, so a scene written by another tool fails here and not deep in the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from quakesar.h5io import open_h5
from quakesar.tiepoints import TiePointGrid

REQUIRED_DATASETS = (
    "reference", "secondary", "geometry/latitude", "geometry/longitude", "geometry/incidence",
    "geometry/height", "geometry/slant_range_m", "geometry/bperp_m",
)
REQUIRED_ATTRS = (
    "event_id", "subswath", "flight_direction", "heading_deg", "track", "wavelength_m",
    "range_pixel_spacing_m", "azimuth_pixel_spacing_m", "reference_time", "secondary_time",
)


class SceneError(ValueError):
    """A scene file lacks a field or has one of the wrong shape or type."""


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@dataclass
class Scene:
    """An open scene: lazy SLC datasets plus the small geometry in memory. Use as a context manager."""

    path: Path
    file: h5py.File
    attrs: dict[str, Any]
    latitude: TiePointGrid
    longitude: TiePointGrid
    incidence: TiePointGrid
    bperp: TiePointGrid
    slant_range_m: np.ndarray

    @property
    def reference(self) -> h5py.Dataset:
        return self.file["reference"]

    @property
    def secondary(self) -> h5py.Dataset:
        return self.file["secondary"]

    @property
    def height(self) -> h5py.Dataset:
        return self.file["geometry/height"]

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.reference.shape)  # type: ignore[return-value]

    @property
    def wavelength_m(self) -> float:
        return float(self.attrs["wavelength_m"])

    @property
    def truth_los(self) -> h5py.Dataset | None:
        return self.file["truth/los_displacement"] if "truth/los_displacement" in self.file else None

    def truth_attrs(self) -> dict[str, Any]:
        """The ``truth`` group's attributes as plain Python values (empty when there is no truth)."""
        if "truth" not in self.file:
            return {}
        return {k: _plain(v) for k, v in self.file["truth"].attrs.items()}

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "Scene":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_scene(path: str | Path) -> Scene:
    """Open and validate a scene file; raises :class:`SceneError` naming the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise SceneError(f"{path}: scene file does not exist")
    f = open_h5(path, "r")
    try:
        missing = [n for n in REQUIRED_DATASETS if n not in f]
        if missing:
            raise SceneError(f"{path}: scene is missing datasets {missing} (layout: docs/architecture.md, Synthetic scene)")
        missing = [a for a in REQUIRED_ATTRS if a not in f.attrs]
        if missing:
            raise SceneError(f"{path}: scene is missing root attributes {missing}")
        ref, sec = f["reference"], f["secondary"]
        for name, ds in (("reference", ref), ("secondary", sec)):
            if ds.ndim != 2 or not np.issubdtype(ds.dtype, np.complexfloating):
                raise SceneError(f"{path}: dataset {name!r} must be a 2-D complex SLC, got {ds.dtype} {ds.shape}")
        if ref.shape != sec.shape:
            raise SceneError(f"{path}: 'secondary' has shape {sec.shape}, expected the shape of 'reference' {ref.shape}")
        if f["geometry/height"].shape != ref.shape:
            raise SceneError(f"{path}: 'geometry/height' has shape {f['geometry/height'].shape}, expected {ref.shape}")
        sr = np.asarray(f["geometry/slant_range_m"][()], dtype=np.float64)
        if sr.shape != (ref.shape[1],):
            raise SceneError(f"{path}: 'geometry/slant_range_m' has shape {sr.shape}, expected ({ref.shape[1]},)")
        if "truth/los_displacement" in f and f["truth/los_displacement"].shape != ref.shape:
            raise SceneError(f"{path}: 'truth/los_displacement' has shape {f['truth/los_displacement'].shape}, "
                             f"expected {ref.shape}")
        attrs = {k: _plain(v) for k, v in f.attrs.items()}
        if isinstance(attrs.get("field_descriptions"), str):
            try:
                attrs["field_descriptions"] = json.loads(attrs["field_descriptions"])
            except json.JSONDecodeError:
                pass
        g = f["geometry"]
        return Scene(path=path, file=f, attrs=attrs,
                     latitude=TiePointGrid.read(g, "latitude"), longitude=TiePointGrid.read(g, "longitude"),
                     incidence=TiePointGrid.read(g, "incidence"), bperp=TiePointGrid.read(g, "bperp_m"),
                     slant_range_m=sr)
    except BaseException:
        f.close()
        raise
