"""SNAP's interferogram product (BEAM-DIMAP) -> the canonical interferogram HDF5.

Band names are those SNAP's InterferogramOp gives (s1tbx ``InterferogramOp.java``:
``"i_" + "ifg" + tag``, ``"q_" + "ifg" + tag``, ``"coh" + tag`` with
``tag = [_<SUBSWATH>]_<POL>_<ddMMMyyyy reference>_<ddMMMyyyy secondary>``), e.g.
``i_ifg_VV_06Apr2025_18Apr2025`` / ``coh_IW2_VV_06Apr2025_18Apr2025``; they keep their names
through TOPSAR-Deburst, TopoPhaseRemoval, Multilook and GoldsteinPhaseFiltering. The
interferogram is ``master * conj(slave)`` with master = reference = the first source of
Back-Geocoding, i.e. exactly quakesar's convention (:mod:`quakesar.convention`), so no sign
change is applied.

Geolocation: the product's tie-point grids ``latitude``, ``longitude`` and ``incident_angle``
(created by TOPSAR-Deburst, resampled by Multilook), converted to quakesar pixel coordinates
by :func:`quakesar.interferogram.snap.dimap.tie_point_pixel_coords`.

Attributes come from ``Abstracted_Metadata`` (SNAP's ``AbstractMetadata`` keys:
``first_line_time``, ``PASS``, ``REL_ORBIT``, ``radar_frequency`` [MHz], ``range_spacing``,
``azimuth_spacing`` [m], ``range_looks``, ``azimuth_looks``, ``centre_heading`` [deg],
``Secondary_Metadata/<product>/first_line_time`` as SNAP 10 and later write it, ``Slave_Metadata``
in older SNAP) and, where absent, from the pairs file.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from quakesar.convention import HEADING_ASCENDING_DEG, HEADING_DESCENDING_DEG, SPEED_OF_LIGHT_M_S, WAVELENGTH_M
from quakesar.interferogram.canonical import Interferogram, base_attrs
from quakesar.interferogram.snap.dimap import DimapProduct, MetadataElement, read_dimap, secondary_metadata
from quakesar.tiepoints import TiePointGrid

_POL = r"(?P<pol>HH|HV|VH|VV)"
_TAG = rf"(?:_(?P<swath>IW[123]))?_{_POL}_(?P<ref>\d{{2}}[A-Za-z]{{3}}\d{{4}})_(?P<sec>\d{{2}}[A-Za-z]{{3}}\d{{4}})$"
I_BAND = re.compile(rf"^i_ifg{_TAG}")
Q_BAND = re.compile(rf"^q_ifg{_TAG}")
COH_BAND = re.compile(rf"^coh{_TAG}")

#: tie-point grid names of SAR products (s1tbx ``OperatorUtils.TPG_*``).
TPG_LATITUDE, TPG_LONGITUDE, TPG_INCIDENCE = "latitude", "longitude", "incident_angle"
BLOCK_LINES = 512


def snap_time_to_iso(text: str) -> str:
    """SNAP's ``ProductData.UTC`` text (``06-APR-2025 02:20:10.123456``) as ISO 8601 UTC with ``Z``."""
    try:
        dt = datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S.%f")
    except ValueError:
        try:
            dt = datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S")
        except ValueError:
            raise ValueError(f"time {text!r}: expected SNAP's 'dd-MMM-yyyy HH:mm:ss.ffffff'") from None
    return dt.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def find_ifg_bands(product: DimapProduct, polarisation: str = "VV") -> tuple[str, str, str]:
    """Names of the i, q and coherence bands of ``polarisation`` (clear error listing the bands otherwise)."""
    def pick(pattern: re.Pattern[str], what: str) -> str:
        hits = [n for n in product.bands if (m := pattern.match(n)) and m.group("pol") == polarisation
                and product.bands[n].data_file is not None]
        if len(hits) != 1:
            raise ValueError(f"{product.path}: expected one {what} band for {polarisation}, found {hits or 'none'} "
                             f"among bands {list(product.bands)}")
        return hits[0]

    return pick(I_BAND, "i_ifg_*"), pick(Q_BAND, "q_ifg_*"), pick(COH_BAND, "coh_*")


def _am_float(am: MetadataElement | None, key: str) -> float | None:
    if am is None or key not in am.attributes:
        return None
    try:
        value = float(am.attributes[key])
    except ValueError:
        return None
    return None if value in (99999.0, -99999.0) or not np.isfinite(value) else value  # SNAP's NO_METADATA


def _pair_time(side: dict[str, Any]) -> str | None:
    for key in ("start_time", "startTime", "start", "time"):
        if side.get(key):
            return str(side[key])
    return None


def _heading(am: MetadataElement | None, direction: str) -> float:
    value = _am_float(am, "centre_heading")
    if value is not None:
        return float((value + 180.0) % 360.0 - 180.0)
    return HEADING_ASCENDING_DEG if direction == "ascending" else HEADING_DESCENDING_DEG


def _grid(product: DimapProduct, name: str) -> TiePointGrid:
    values, rows, cols = product.read_tie_point_grid(name)
    return TiePointGrid(rows, cols, values, is_longitude=(name == TPG_LONGITUDE))


def attributes(product: DimapProduct, event: dict[str, Any], pair: dict[str, Any], subswath: str,
               backend_parameters: dict[str, Any]) -> dict[str, Any]:
    """Canonical root attributes from the product's metadata, the pair record and the event."""
    am = product.abstracted_metadata
    ref_text = am.get("first_line_time") if am is not None else None
    reference_time = snap_time_to_iso(ref_text) if ref_text else _pair_time(pair.get("reference", {}))
    secondary_time = None
    slave_root = secondary_metadata(product.metadata)
    if slave_root is not None and slave_root.elements and slave_root.elements[0].get("first_line_time"):
        secondary_time = snap_time_to_iso(slave_root.elements[0].attributes["first_line_time"])
    secondary_time = secondary_time or _pair_time(pair.get("secondary", {}))
    if reference_time is None or secondary_time is None:
        raise ValueError(f"{product.path}: acquisition times neither in Abstracted_Metadata nor in the pair record "
                         "(reference/secondary start_time)")
    direction = (am.get("PASS", "") if am is not None else "").lower() or str(pair.get("flight_direction", "")).lower()
    if direction not in ("ascending", "descending"):
        raise ValueError(f"{product.path}: flight direction {direction!r} (Abstracted_Metadata PASS or pair "
                         "flight_direction): expected ascending or descending")
    track = _am_float(am, "REL_ORBIT")
    track = int(track) if track is not None else pair.get("track")
    if track is None:
        raise ValueError(f"{product.path}: relative orbit neither in Abstracted_Metadata REL_ORBIT nor in the pair's track")
    freq_mhz = _am_float(am, "radar_frequency")
    wavelength = SPEED_OF_LIGHT_M_S / (freq_mhz * 1e6) if freq_mhz else WAVELENGTH_M
    rg, az = _am_float(am, "range_spacing"), _am_float(am, "azimuth_spacing")
    if rg is None or az is None:
        raise ValueError(f"{product.path}: Abstracted_Metadata lacks range_spacing/azimuth_spacing")
    attrs = base_attrs(
        event_id=str(event.get("id", "")), reference_time=reference_time, secondary_time=secondary_time,
        track=int(track), flight_direction=direction, subswath=subswath, wavelength_m=float(wavelength),
        heading_deg=_heading(am, direction), range_pixel_spacing_m=float(rg), azimuth_pixel_spacing_m=float(az),
        looks_range=int(_am_float(am, "range_looks") or 1), looks_azimuth=int(_am_float(am, "azimuth_looks") or 1),
        backend="snap", backend_parameters=backend_parameters, scene_id=str(pair.get("scene_id", "")),
        source_product=product.path.name,
    )
    return attrs


def dimap_to_interferogram(dim_path: str | Path, event: dict[str, Any], pair: dict[str, Any], subswath: str,
                           backend_parameters: dict[str, Any], polarisation: str = "VV") -> Interferogram:
    """Read SNAP's interferogram DIMAP into an :class:`Interferogram` (write it with ``write_interferogram``).

    SNAP's no-data pixels (i = q = 0 outside the DEM or the bursts, non-finite values, or
    coherence equal to its ``NO_DATA_VALUE``) are set to 0 in i, q and coherence and marked 0
    in the ``valid`` mask. A single zero i or q is a valid value (phase 0 or pi/2), not no-data.
    """
    product = read_dimap(dim_path)
    i_name, q_name, c_name = find_ifg_bands(product, polarisation)
    i = product.read_band(i_name, nodata_as_nan=False)
    q = product.read_band(q_name, nodata_as_nan=False)
    coh = product.read_band(c_name)
    valid = np.empty(i.shape, dtype=np.uint8)
    for r0 in range(0, i.shape[0], BLOCK_LINES):  # block-wise: no full-size boolean temporaries
        b = slice(r0, r0 + BLOCK_LINES)
        ok = np.isfinite(i[b]) & np.isfinite(q[b]) & np.isfinite(coh[b]) & ((i[b] != 0) | (q[b] != 0))
        for arr in (i, q, coh):
            arr[b][~ok] = 0.0
        valid[b] = ok
    np.clip(coh, 0.0, 1.0, out=coh)
    for name in (TPG_LATITUDE, TPG_LONGITUDE):
        if name not in product.tie_point_grids:
            raise ValueError(f"{product.path}: no {name!r} tie-point grid (grids: {list(product.tie_point_grids)})")
    incidence = _grid(product, TPG_INCIDENCE) if TPG_INCIDENCE in product.tie_point_grids else None
    bands = {"i": i_name, "q": q_name, "coherence": c_name}
    return Interferogram(
        i=i.astype(np.float32, copy=False), q=q.astype(np.float32, copy=False),
        coherence=coh.astype(np.float32, copy=False),
        latitude=_grid(product, TPG_LATITUDE), longitude=_grid(product, TPG_LONGITUDE), incidence=incidence,
        attrs=attributes(product, event, pair, subswath, {**backend_parameters, "snap_bands": bands}),
        optional={"valid": valid},
    )
