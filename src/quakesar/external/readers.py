"""Read an external product (:class:`ProductSpec`) into a :class:`GeocodedProduct` in quakesar's conventions.

Units and signs, per product (each from its documentation; tests/test_external_convention.py
checks both directions of every conversion):

* **LiCSAR** ``geo.unw.tif`` / ``geo.diff_pha.tif``: radians, positive = range increase. LiCSAR's
  time-series tool LiCSBAS turns them into LOS displacement with ``-wavelength / (4 pi)``,
  positive towards the satellite, i.e. the same sign as :func:`quakesar.convention.phase_to_los`:
  no sign change. ``geo.cc.tif``: 0-255 (uint8, newer products) or 0-1 (older float products),
  told apart by the file's storage type. ``geo.E/N/U.tif``: ground-to-satellite
  unit vector components; incidence and heading from
  :func:`quakesar.convention.incidence_heading_from_los`. 0 (or NaN) is LiCSAR's no-data value.
* **ASF HyP3** (GAMMA and ISCE2 burst): ``unw_phase`` radians, "positive values indicate movement
  away from the sensor" (the product README): quakesar's sign. ``los_disp`` metres, "positive
  values indicate movement towards the sensor": quakesar's sign. ``corr`` 0-1.
  ``lv_theta``/``lv_phi`` radians, :func:`quakesar.convention.los_from_look_angles`;
  ``inc_map_ell`` (GAMMA option) radians. Without look vectors or incidence map the incidence is
  computed from the parameter file's centre slant range, spacecraft height and Earth radius at
  nadir (law of cosines; one value for the scene, recorded as such).
* **generic** ``geotiff``/``raw``: the config entry states the phase sign (``phase_sign``), the
  displacement sign and units (``displacement_sign``, ``displacement_units`` m/cm/mm), the
  incidence (file or degrees, ``incidence_units`` deg/rad) and heading or E/N/U vectors, the times.

The platform heading of the canonical file is the circular mean of the per-pixel headings of the
look vectors where the product has them, checked against the heading in the product's metadata
(a disagreement of more than :data:`HEADING_TOLERANCE_DEG` means flipped or mislabelled vectors
and stops the import).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable

import numpy as np

from quakesar.convention import WAVELENGTH_M, incidence_heading_from_los, los_from_look_angles, wrap
from quakesar.external.layouts import LayoutError, ProductSpec
from quakesar.external.metadata import (MetadataError, iso, licsar_pair_dates, parse_hyp3, parse_licsar_frame,
                                        parse_licsar_metadata)
from quakesar.external.product import GeocodedProduct
from quakesar.external.raster import Georef, RasterError, raster_dtype, read_geotiff, read_raw, read_text

HEADING_TOLERANCE_DEG = 15.0
PHASE_SIGN = {"range_increase_positive": 1.0, "range_decrease_positive": -1.0}
DISPLACEMENT_SIGN = {"towards_positive": 1.0, "away_positive": -1.0}
UNITS_M = {"m": 1.0, "cm": 0.01, "mm": 0.001}


# --------------------------------------------------------------------------- conversions


def phase_to_quakesar(phase: np.ndarray, convention: str) -> np.ndarray:
    """A product phase (rad) in quakesar's sign (positive = range increase)."""
    if convention not in PHASE_SIGN:
        raise ValueError(f"phase convention {convention!r}: expected one of {sorted(PHASE_SIGN)}")
    return PHASE_SIGN[convention] * np.asarray(phase, dtype=np.float64)


def displacement_to_quakesar(d: np.ndarray, convention: str, units: str = "m") -> np.ndarray:
    """A product LOS displacement in metres, positive towards the satellite."""
    if convention not in DISPLACEMENT_SIGN:
        raise ValueError(f"displacement convention {convention!r}: expected one of {sorted(DISPLACEMENT_SIGN)}")
    if units not in UNITS_M:
        raise ValueError(f"displacement units {units!r}: expected one of {sorted(UNITS_M)}")
    return DISPLACEMENT_SIGN[convention] * UNITS_M[units] * np.asarray(d, dtype=np.float64)


def coherence_01(coh: np.ndarray, source: str, scale: float | None = None) -> tuple[np.ndarray, str]:
    """Coherence as 0..1: values up to 255 (a uint8 product) are divided by 255; returns (array, note)."""
    finite = coh[np.isfinite(coh)]
    top = float(finite.max()) if finite.size else 0.0
    if scale is None:
        if top <= 1.0 + 1e-6:
            return coh, "coherence 0-1 as stored"
        if top <= 255.0 + 1e-6:
            scale = 1.0 / 255.0
        else:
            raise RasterError(f"{source}: coherence up to {top:g}, neither 0-1 nor 0-255")
    out = coh * float(scale)
    if finite.size and float(np.nanmax(out)) > 1.0 + 1e-6:
        raise RasterError(f"{source}: coherence up to {np.nanmax(out):g} after scaling by {scale:g}")
    return out, f"coherence scaled by {scale:g} (stored 0-{round(1 / scale)})"


def circular_mean_deg(angles: np.ndarray) -> float:
    """Circular mean of angles (deg) in (-180, 180]."""
    a = np.radians(np.asarray(angles, dtype=np.float64))
    a = a[np.isfinite(a)]
    if a.size == 0:
        raise ValueError("no finite angle to average")
    return float(np.degrees(np.arctan2(np.sin(a).mean(), np.cos(a).mean())))


def angle_difference_deg(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def direction_from_heading(heading_deg: float) -> str:
    """Ascending headings point north (about -12 deg), descending ones south (about -168 deg)."""
    return "ascending" if math.cos(math.radians(heading_deg)) > 0 else "descending"


def incidence_from_slant_range(slant_range_m: float, height_m: float, earth_radius_m: float) -> float:
    """Incidence (deg) at slant range R from a spacecraft at height H above a sphere of radius Re.

    Law of cosines in the triangle Earth centre - spacecraft - target: ``cos(look) =
    (R^2 + Rs^2 - Re^2) / (2 R Rs)``, ``sin(incidence) = Rs sin(look) / Re`` with ``Rs = Re + H``.
    """
    rs = earth_radius_m + height_m
    cos_look = (slant_range_m**2 + rs**2 - earth_radius_m**2) / (2.0 * slant_range_m * rs)
    look = math.acos(max(-1.0, min(1.0, cos_look)))
    return math.degrees(math.asin(min(1.0, rs * math.sin(look) / earth_radius_m)))


# --------------------------------------------------------------------------- helpers


#: Look-geometry rasters that are smooth and may come on a grid of their own (a LiCSAR frame's E/N/U
#: cover the whole frame, a clipped interferogram less): sampled bilinearly at the data's pixels.
GEOMETRY_ROLES = frozenset({"east", "north", "up", "incidence"})


def _onto(arr: np.ndarray, geo: Georef, target: Georef) -> np.ndarray:
    """``arr`` (on ``geo``) sampled bilinearly at the pixel centres of ``target`` (same CRS); NaN outside."""
    from scipy import ndimage

    rr, cc = np.mgrid[0:target.shape[0], 0:target.shape[1]]
    row, col = geo.rowcol(*target.xy(rr, cc))
    return ndimage.map_coordinates(arr, np.stack([row, col]), order=1, mode="constant", cval=np.nan)


def _stack(files: dict[str, str], roles: list[str], read: Callable[[str], tuple[np.ndarray, Georef]],
           product: str, notes: list[str] | None = None) -> tuple[dict[str, np.ndarray], Georef]:
    """Read the rasters of ``roles`` present in ``files``; all must share one grid, except the
    look-geometry rasters (:data:`GEOMETRY_ROLES`), which are resampled onto the data's grid when
    they are on another grid of the same CRS (noted in ``notes``)."""
    arrays: dict[str, np.ndarray] = {}
    georef: Georef | None = None
    first = ""
    deferred: list[tuple[str, np.ndarray, Georef]] = []
    for role in sorted((r for r in roles if r in files), key=lambda r: r in GEOMETRY_ROLES):
        arr, geo = read(files[role])
        if georef is None:
            georef, first = geo, files[role]
        elif not georef.same_grid(geo):
            from pyproj import CRS

            if role in GEOMETRY_ROLES and CRS.from_user_input(geo.crs) == CRS.from_user_input(georef.crs):
                deferred.append((role, arr, geo))
                continue
            raise RasterError(f"{product}: {files[role]} is not on the grid of {first} "
                              f"(shape {geo.shape} vs {georef.shape}, transform {geo.transform} vs {georef.transform}); "
                              "all rasters of a product must share one grid")
        arrays[role] = arr
    if georef is None:
        raise LayoutError(f"{product}: no raster among {roles}")
    for role, arr, geo in deferred:
        arrays[role] = _onto(arr, geo, georef)
        if notes is not None:
            notes.append(f"{role}: on a grid of its own ({geo.shape[0]} x {geo.shape[1]}), sampled bilinearly "
                         "at the data's pixel centres")
    return arrays, georef


def _geometry_from_vectors(e: np.ndarray, n: np.ndarray, u: np.ndarray, product: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel incidence and heading of ground-to-satellite vectors; refuses vectors pointing down."""
    ok = np.isfinite(e) & np.isfinite(n) & np.isfinite(u) & ((e != 0) | (n != 0) | (u != 0))
    if ok.any() and float(np.median(u[ok])) < 0:
        raise MetadataError(f"{product}: the look vectors point down (up component < 0): quakesar needs them from the "
                            "ground to the satellite; for satellite-to-ground vectors (e.g. FLATSIM CosENU) set "
                            "vector_direction: satellite_to_ground")
    inc, head = incidence_heading_from_los(np.where(ok, e, np.nan), np.where(ok, n, np.nan), np.where(ok, u, np.nan))
    return inc, head


def _heading(per_pixel: np.ndarray | None, valid: np.ndarray, meta_heading: float | None, product: str) -> float:
    if per_pixel is None:
        if meta_heading is None:
            raise MetadataError(f"{product}: no look vectors and no heading in the metadata")
        return float((meta_heading + 180.0) % 360.0 - 180.0)
    sel = per_pixel[valid & np.isfinite(per_pixel)]
    h = circular_mean_deg(sel if sel.size else per_pixel)
    if meta_heading is not None and angle_difference_deg(h, meta_heading) > HEADING_TOLERANCE_DEG:
        raise MetadataError(f"{product}: heading of the look vectors {h:.1f} deg disagrees with the metadata's "
                            f"{meta_heading:.1f} deg (tolerance {HEADING_TOLERANCE_DEG} deg): flipped or "
                            "mislabelled look-vector files?")
    return h


# --------------------------------------------------------------------------- LiCSAR


def read_licsar(spec: ProductSpec) -> GeocodedProduct:
    """A LiCSAR pair (module docstring)."""
    f = spec.files
    notes: list[str] = []
    arrays, geo = _stack(f, ["unwrapped", "wrapped", "coherence", "east", "north", "up"], read_geotiff, spec.product_id,
                         notes)
    frame, pair = str(spec.options.get("frame")), str(spec.options.get("pair"))
    track, direction = parse_licsar_frame(frame)
    d1, d2 = licsar_pair_dates(pair)
    meta = parse_licsar_metadata(read_text(f["metadata"]), f["metadata"]) if "metadata" in f else None
    conversions = ["LiCSAR phase sign = quakesar's (positive = range increase): unchanged", *notes]
    # newer LiCSAR frames store coherence as uint8 0-255, older ones as float 0-1: the storage type decides
    stored = raster_dtype(f["coherence"])
    coh, note = coherence_01(arrays["coherence"], f["coherence"], 1.0 / 255.0 if stored == "uint8" else None)
    conversions.append(f"{note} ({stored})")
    phases = [arrays[r] for r in ("unwrapped", "wrapped") if r in arrays]
    valid = np.isfinite(coh) & (coh > 0)
    for p in phases:
        valid &= np.isfinite(p)
    valid &= ~np.all([p == 0 for p in phases], axis=0)  # LiCSAR writes 0 outside the frame
    inc, head = _geometry_from_vectors(arrays["east"], arrays["north"], arrays["up"], spec.product_id)
    valid &= np.isfinite(inc)
    meta_heading = meta.get("heading") if meta else None
    heading = _heading(head, valid, meta_heading, spec.product_id)
    if direction_from_heading(heading) != direction:
        raise MetadataError(f"{spec.product_id}: frame {frame} is {direction} but its look vectors give heading "
                            f"{heading:.1f} deg")
    ctime = meta.center_time if meta else None
    times = [dt.datetime.combine(d, ctime or dt.time(0, 0), tzinfo=dt.timezone.utc) for d in (d1, d2)]
    precision = "seconds (metadata.txt center_time)" if ctime else "date only (no center_time in metadata.txt)"
    return GeocodedProduct(
        product_id=spec.product_id, layout="licsar", georef=geo, coherence=np.where(valid, coh, 0.0), valid=valid,
        incidence_deg=inc, heading_deg=heading, reference_time=iso(times[0]), secondary_time=iso(times[1]),
        flight_direction=direction, track=track, subswath="IW",
        wrapped=np.where(valid, arrays["wrapped"], np.nan) if "wrapped" in arrays else None,
        unwrapped=np.where(valid, arrays["unwrapped"], np.nan) if "unwrapped" in arrays else None,
        wavelength_m=WAVELENGTH_M, source_files=dict(f),
        metadata={"frame": frame, "pair": pair, "time_precision": precision,
                  "metadata_txt": dict(meta.fields) if meta else None},
        conversions=conversions)


# --------------------------------------------------------------------------- HyP3


def read_hyp3(spec: ProductSpec) -> GeocodedProduct:
    """An ASF HyP3 INSAR_GAMMA or INSAR_ISCE_BURST product (module docstring)."""
    f = spec.files
    readme = read_text(f["readme"]) if "readme" in f else None
    meta = parse_hyp3(read_text(f["parameters"]), f["parameters"], readme)
    arrays, geo = _stack(f, ["unwrapped", "wrapped", "los_displacement", "coherence", "lv_theta", "lv_phi",
                             "incidence_ellipsoid"], read_geotiff, spec.product_id)
    conversions = ["HyP3 unwrapped/wrapped phase sign = quakesar's (README: positive = movement away): unchanged"]
    coh, note = coherence_01(arrays["coherence"], f["coherence"])
    conversions.append(note)
    data = [arrays[r] for r in ("unwrapped", "wrapped", "los_displacement") if r in arrays]
    valid = np.isfinite(coh)
    for a in data:
        valid &= np.isfinite(a)
    valid &= ~((coh == 0) & np.all([a == 0 for a in data], axis=0))  # zero fill outside the footprint
    per_pixel_heading = None
    if "lv_theta" in arrays and "lv_phi" in arrays:
        v = los_from_look_angles(arrays["lv_theta"], arrays["lv_phi"])
        inc, per_pixel_heading = _geometry_from_vectors(v[..., 0], v[..., 1], v[..., 2], spec.product_id)
        conversions.append("look vectors lv_theta/lv_phi (rad) -> incidence 90 deg - theta, heading")
    elif "incidence_ellipsoid" in arrays:
        inc = np.degrees(arrays["incidence_ellipsoid"])
        conversions.append("incidence from inc_map_ell (rad); heading from the parameter file")
    else:
        fields = meta.fields
        try:
            value = incidence_from_slant_range(float(fields["Slant range center"]), float(fields["Spacecraft height"]),
                                               float(fields["Earth radius at nadir"]))
        except (KeyError, ValueError):
            raise MetadataError(f"{f['parameters']}: no look vectors, no incidence map and no slant range / height "
                                "/ Earth radius fields to compute the incidence from") from None
        inc = np.full(geo.shape, value)
        conversions.append(f"incidence {value:.3f} deg for the whole scene from the centre slant range "
                           "(no look vectors or incidence map in the product)")
    valid &= np.isfinite(inc)
    heading = _heading(per_pixel_heading, valid, meta.heading_deg, spec.product_id)
    los = None
    if "los_displacement" in arrays:
        los = displacement_to_quakesar(arrays["los_displacement"], "towards_positive", "m")
        conversions.append("los_disp: metres, positive towards the sensor (README) = quakesar's: unchanged")
    track = meta.track
    return GeocodedProduct(
        product_id=spec.product_id, layout=spec.layout, georef=geo, coherence=np.where(valid, coh, 0.0), valid=valid,
        incidence_deg=inc, heading_deg=heading, reference_time=iso(meta.reference_time),
        secondary_time=iso(meta.secondary_time), flight_direction=meta.flight_direction,
        track=-1 if track is None else int(track), subswath=meta.subswath or "IW",
        wrapped=np.where(valid, arrays["wrapped"], np.nan) if "wrapped" in arrays else None,
        unwrapped=np.where(valid, arrays["unwrapped"], np.nan) if "unwrapped" in arrays else None,
        los_displacement=None if los is None else np.where(valid, los, np.nan),
        wavelength_m=WAVELENGTH_M, looks_range=meta.range_looks, looks_azimuth=meta.azimuth_looks,
        source_files=dict(f),
        metadata={"job_type": meta.job_type, "reference_granules": [g.name for g in meta.reference],
                  "secondary_granules": [g.name for g in meta.secondary], "baseline_m": meta.baseline_m,
                  "processor": meta.processor, "pixel_spacing_m": meta.pixel_spacing_m,
                  "parameters": dict(meta.fields)},
        conversions=conversions)


# --------------------------------------------------------------------------- generic


def _generic_reader(spec: ProductSpec) -> Callable[[str], tuple[np.ndarray, Georef]]:
    o = spec.options
    bands = {spec.files[role]: int(b) for role, b in (o.get("bands") or {}).items() if role in spec.files}
    if spec.layout == "geotiff":
        return lambda path: read_geotiff(path, bands.get(path))

    def read(path: str) -> tuple[np.ndarray, Georef]:
        rmg = o.get("interleave") == "rmg" and path.endswith(".unw")
        return read_raw(path, byte_order=o.get("byte_order"), pixel_registration=o.get("pixel_registration"),
                        interleave="rmg" if rmg else "band", band=2 if rmg else 1)

    return read


def _parse_iso(text: str, where: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise MetadataError(f"{where}: {text!r} is not an ISO 8601 time") from None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def read_generic(spec: ProductSpec) -> GeocodedProduct:
    """A generic geocoded grid (GeoTIFF or raw float32 + header) with the conventions its entry states."""
    f, o = spec.files, spec.options
    conversions: list[str] = []
    arrays, geo = _stack(f, ["unwrapped", "wrapped", "los_displacement", "coherence", "incidence", "east", "north", "up"],
                         _generic_reader(spec), spec.product_id, conversions)
    nodata = o.get("nodata")
    for a in arrays.values():
        if nodata is not None:
            a[a == float(nodata)] = np.nan
    wavelength = float(o.get("wavelength_m") or WAVELENGTH_M)
    out: dict[str, Any] = {}
    for role in ("unwrapped", "wrapped"):
        if role in arrays:
            out[role] = phase_to_quakesar(arrays[role], o["phase_sign"])
            conversions.append(f"{role}: phase_sign {o['phase_sign']} -> quakesar's (x{PHASE_SIGN[o['phase_sign']]:+.0f})")
    if "wrapped" in out:
        out["wrapped"] = wrap(out["wrapped"])
    if "los_displacement" in arrays:
        units = str(o.get("displacement_units", "m"))
        out["los_displacement"] = displacement_to_quakesar(arrays["los_displacement"], o["displacement_sign"], units)
        conversions.append(f"los_displacement: {o['displacement_sign']}, {units} -> m towards the satellite")
    if "coherence" in arrays:
        coh, note = coherence_01(arrays["coherence"], f["coherence"],
                                 None if o.get("coherence_scale") is None else float(o["coherence_scale"]))
        conversions.append(note)
    else:
        coh = np.ones(geo.shape)
        conversions.append("no coherence raster: coherence set to 1 where the phase is valid")
    per_pixel_heading = None
    if all(r in arrays for r in ("east", "north", "up")):
        sense = str(o.get("vector_direction", "ground_to_satellite"))
        if sense not in ("ground_to_satellite", "satellite_to_ground"):
            raise MetadataError(f"{spec.product_id}.vector_direction: {sense!r}, expected ground_to_satellite or "
                                "satellite_to_ground")
        k = -1.0 if sense == "satellite_to_ground" else 1.0
        inc, per_pixel_heading = _geometry_from_vectors(k * arrays["east"], k * arrays["north"], k * arrays["up"],
                                                        spec.product_id)
        conversions.append(f"incidence and heading from the east/north/up vectors ({sense}"
                           f"{', negated' if k < 0 else ''})")
    elif "incidence" in arrays:
        inc = arrays["incidence"] * (180.0 / math.pi if o.get("incidence_units") == "rad" else 1.0)
    else:
        inc = np.full(geo.shape, float(o["incidence"]) * (180.0 / math.pi if o.get("incidence_units") == "rad" else 1.0))
    valid = np.isfinite(coh) & np.isfinite(inc)
    for role in ("unwrapped", "wrapped", "los_displacement"):
        if role in out:
            valid &= np.isfinite(out[role])
    meta_heading = float(o["heading_deg"]) if isinstance(o.get("heading_deg"), (int, float)) else None
    heading = _heading(per_pixel_heading, valid, meta_heading, spec.product_id)
    direction = str(o.get("flight_direction") or direction_from_heading(heading)).lower()
    if direction != direction_from_heading(heading):
        raise MetadataError(f"{spec.product_id}: flight_direction {direction} contradicts heading {heading:.1f} deg")
    t1 = _parse_iso(o["reference_time"], f"{spec.product_id}.reference_time")
    t2 = _parse_iso(o["secondary_time"], f"{spec.product_id}.secondary_time")
    if t2 <= t1:
        raise MetadataError(f"{spec.product_id}: secondary_time {iso(t2)} is not after reference_time {iso(t1)}")
    return GeocodedProduct(
        product_id=spec.product_id, layout=spec.layout, georef=geo, coherence=np.where(valid, coh, 0.0), valid=valid,
        incidence_deg=inc, heading_deg=heading, reference_time=iso(t1), secondary_time=iso(t2),
        flight_direction=direction, track=int(o.get("track", -1)), subswath="IW",
        wrapped=np.where(valid, out["wrapped"], np.nan) if "wrapped" in out else None,
        unwrapped=np.where(valid, out["unwrapped"], np.nan) if "unwrapped" in out else None,
        los_displacement=np.where(valid, out["los_displacement"], np.nan) if "los_displacement" in out else None,
        wavelength_m=wavelength, source_files=dict(f), metadata={"options": dict(o)}, conversions=conversions)


READERS: dict[str, Callable[[ProductSpec], GeocodedProduct]] = {
    "licsar": read_licsar, "hyp3_gamma": read_hyp3, "hyp3_isce_burst": read_hyp3,
    "geotiff": read_generic, "raw": read_generic,
}


def read_product(spec: ProductSpec) -> GeocodedProduct:
    """Read and convert one product; checks the result (:meth:`GeocodedProduct.check`)."""
    if spec.layout not in READERS:
        raise LayoutError(f"{spec.product_id}: unknown layout {spec.layout!r}; expected one of {sorted(READERS)}")
    product = READERS[spec.layout](spec)
    product.check()
    return product
