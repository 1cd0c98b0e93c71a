"""Tile an event's canonical interferograms into ML patches (HDF5 pixels + CSV metadata).

Layout: docs/architecture.md, "Patches"; method and figures: docs/patches.md.

For every interferogram (one per subswath) windows of ``window x window`` pixels with step
``stride`` start at row/col 0 and lie fully inside the raster (plus one window flush with the far
edge when at least a quarter window would stay uncovered, :func:`window_starts`); each is resized to
``size x size`` by exact area averaging (:mod:`quakesar.patches.resample`) of the complex
interferogram (i, q) and of the coherence, with invalid pixels excluded. A window whose valid
fraction is below ``min_valid_fraction`` is dropped and counted under its reason. Rasters are
read one strip of ``window`` rows at a time, so memory is bounded by
``window x columns`` whatever the raster's length.

Validity of a pixel: the ``valid`` raster is non-zero (when present), ``i``, ``q``,
``coherence`` (and a requested ``unwrapped``/``los_displacement`` raster) are finite, and
``(i, q) != (0, 0)`` (zero is the no-data fill of SNAP and of the native backend's burst gaps).

Geometry (corners, centre, geodesic distance/bearing/offsets) comes from
:mod:`quakesar.patches.geometry`. The detection label ``deformation`` is 1 when the peak
``|truth/los_displacement|`` inside the full-resolution window reaches the threshold (the
``detectability_threshold_m`` recorded in the interferogram's truth attributes unless
``label_threshold_m`` is given), empty when the interferogram has no truth.

Storage: one HDF5 chunk per patch, ``compression`` none (the default), gzip (level 4 + shuffle) or
lzf. Interferogram i/q are noise-like floats: gzip saves only ~20 % and costs most of the read
time of a patch (a 2-worker DataLoader read 514 patches/s uncompressed, 108 with gzip, when
that benchmark existed; see docs/benchmarks.md), hence uncompressed by default.

Re-running with unchanged inputs (event record fields, configuration, interferogram bytes,
software version) leaves all outputs untouched: the HDF5 file stores a SHA-256 fingerprint
of its inputs and the CSV/summary go through ``write_if_changed``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from quakesar import __version__
from quakesar.atomic import atomic_path, dumps_json, write_if_changed
from quakesar.convention import phase_to_los
from quakesar.h5io import open_h5
from quakesar.interferogram.canonical import RASTERS, read_attrs
from quakesar.detectability import Detectability
from quakesar.patches.geometry import CORNERS, axis_vectors, footprint_bbox, geodesic_polar, window_geometry
from quakesar.patches.resample import masked_area_average_strip
from quakesar.tiepoints import TiePointGrid

log = logging.getLogger(__name__)

FORMAT_VERSION = "quakesar-patches-2"
ALL_CHANNELS = ("coherence", "i", "q", "phase", "amplitude", "unwrapped", "los_displacement")
DEFAULTS: dict[str, Any] = {"window": 2000, "stride": None, "size": 256, "channels": ["coherence", "i", "q"],
                            "min_valid_fraction": 0.5, "dtype": "float32", "compression": "none"}
COMPRESSION = {"gzip": {"compression": "gzip", "compression_opts": 4, "shuffle": True},
               "lzf": {"compression": "lzf", "shuffle": True}, "none": {}}
EVENT_FIELDS = ("id", "latitude", "longitude", "magnitude", "magnitude_type", "mw", "depth_km", "time")
DROP_REASON_VALID = "valid_fraction_below_min"

COLUMNS = (
    "patch_id", "event_id", "scene_id", "subswath", "h5_index", "row0", "col0", "row1", "col1",
    "corner_00_lat", "corner_00_lon", "corner_01_lat", "corner_01_lon", "corner_11_lat", "corner_11_lon",
    "corner_10_lat", "corner_10_lon", "center_lat", "center_lon", "epicenter_lat", "epicenter_lon",
    "distance_km", "bearing_deg", "east_km", "north_km", "magnitude", "magnitude_type", "mw", "depth_km",
    "event_time", "valid_fraction", "flight_direction", "heading_deg", "peak_abs_los_m", "deformation",
)
EXTRA_COLUMNS = (
    "track", "reference_time", "secondary_time", "source_file", "label_threshold_m",
    "footprint_south", "footprint_north", "footprint_west", "footprint_east",
)
#: Observable learning targets and noise level (:func:`add_learning_columns`; format quakesar-patches-2).
LEARNING_COLUMNS = ("epi_u", "epi_v", "incidence_deg", "turbulence_std_m", "snr", "signal")


def patch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The ``patches`` config section with defaults filled and values checked."""
    out = {**DEFAULTS, **(cfg or {})}
    unknown = set(out) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"patches config: unknown keys {sorted(unknown)}; expected {sorted(DEFAULTS)}")
    out["window"], out["size"] = int(out["window"]), int(out["size"])
    out["stride"] = out["window"] if out["stride"] is None else int(out["stride"])
    if out["size"] < 1 or out["window"] < out["size"]:
        raise ValueError(f"patches config: need 1 <= size <= window, got size={out['size']} window={out['window']}")
    if out["stride"] < 1:
        raise ValueError(f"patches config: stride must be >= 1, got {out['stride']}")
    bad = [c for c in out["channels"] if c not in ALL_CHANNELS]
    if bad or not out["channels"]:
        raise ValueError(f"patches config: channels {bad or '[]'} not allowed; choose from {list(ALL_CHANNELS)}")
    if not 0.0 <= float(out["min_valid_fraction"]) <= 1.0:
        raise ValueError(f"patches config: min_valid_fraction must be in [0, 1], got {out['min_valid_fraction']}")
    if out["dtype"] not in ("float16", "float32"):
        raise ValueError(f"patches config: dtype must be float16 or float32, got {out['dtype']!r}")
    if out["compression"] not in COMPRESSION:
        raise ValueError(f"patches config: compression must be one of {sorted(COMPRESSION)}, got {out['compression']!r}")
    out["channels"] = list(out["channels"])
    return out


def _check_event(event: dict[str, Any]) -> None:
    missing = [k for k in EVENT_FIELDS if k not in event]
    if missing:
        raise ValueError(f"event record {event.get('id', '?')!r}: missing fields {missing}")


def _check_window_fits(event: dict[str, Any], files: list[Path], window: int) -> None:
    """Stop when ``window`` exceeds every interferogram raster of the event (no window can fit
    anywhere, whatever the data): a configuration error, named with the window and the raster sizes.
    An event whose windows all fall below the valid fraction is different (bad data, recorded as
    dropped windows), and so is an event without interferograms (no pair: empty outputs)."""
    if not files:
        return
    shapes = {}
    for path in files:
        with open_h5(path, "r") as f:
            if "i" not in f:
                return  # not a canonical interferogram: _tile_one names what is missing
            shapes[path] = tuple(int(n) for n in f["i"].shape)
    if all(rows < window or cols < window for rows, cols in shapes.values()):
        sizes = ", ".join(f"{p.name}: {r} x {c}" for p, (r, c) in shapes.items())
        largest = max(min(r, c) for r, c in shapes.values())
        raise ValueError(f"patches.window: {window} px is larger than every interferogram raster of event "
                         f"{event['id']!r} (rows x cols: {sizes}); no window fits. Use patches.window <= {largest} "
                         "(and patches.size <= window) for these rasters.")


def _fingerprint(event: dict[str, Any], files: list[Path], cfg: dict[str, Any], threshold: float | None) -> str:
    """SHA-256 over everything the outputs depend on (file bytes, event fields, config, version)."""
    h = hashlib.sha256()
    h.update(dumps_json({"format": FORMAT_VERSION, "version": __version__, "cfg": cfg, "threshold": threshold,
                         "event": {k: event[k] for k in EVENT_FIELDS}, "files": [str(p) for p in files]}).encode())
    for path in files:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def _summary_path(out_csv: Path) -> Path:
    return out_csv.with_name(out_csv.name.removesuffix(".csv") + ".summary.json")


def window_starts(n: int, window: int, stride: int) -> np.ndarray:
    """First pixels of the windows along an axis of ``n`` pixels (see module docstring).

    ``0, stride, 2 stride, ...`` while the window fits; when that leaves at least a quarter of a
    window uncovered at the far edge, one more window flush with the edge (``n - window``) is
    added, so a subswath's last burst is not lost (13,500 lines / 2,000 would leave 1,500).
    """
    if n < window:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, n - window + 1, stride, dtype=np.int64)
    if n - (starts[-1] + window) >= window / 4:
        starts = np.append(starts, n - window)
    return starts


def _window_sums(colsum: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    cum = np.concatenate([[0], np.cumsum(colsum, dtype=np.float64)])
    return cum[starts + window] - cum[starts]


class PatchWriter:
    """Appends patches to the growing ``patches`` dataset of an open HDF5 file."""

    def __init__(self, f: h5py.File, n_channels: int, size: int, dtype: str, compression: str = "gzip") -> None:
        self.ds = f.create_dataset("patches", shape=(0, n_channels, size, size), maxshape=(None, n_channels, size, size),
                                   chunks=(1, n_channels, size, size), dtype=dtype, **COMPRESSION[compression])
        self.n = 0

    def append(self, block: np.ndarray) -> int:
        first = self.n
        if len(block):
            self.ds.resize(self.n + len(block), axis=0)
            self.ds[self.n:self.n + len(block)] = block.astype(self.ds.dtype)
            self.n += len(block)
        return first


def _chunk_row_cache_bytes(path: Path) -> int:
    """HDF5 chunk-cache size per raster holding two rows of chunks (enough for strip boundaries, bounded)."""
    try:
        with open_h5(path, "r") as f:
            ds = f["i"]
            chunk_rows = (ds.chunks or ds.shape)[0]
            return int(2 * chunk_rows * ds.shape[1] * ds.dtype.itemsize) + (1 << 20)
    except (OSError, KeyError) as exc:
        raise ValueError(f"{path}: cannot read the interferogram raster 'i' ({exc})") from exc


def _tile_one(path: Path, event: dict[str, Any], cfg: dict[str, Any], writer: "PatchWriter",
              label_threshold_m: float | None, drops: dict[str, int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Tile one interferogram; returns its CSV rows (without geometry) and its source geometry record."""
    window, stride, size = cfg["window"], cfg["stride"], cfg["size"]
    channels = cfg["channels"]
    attrs = read_attrs(path)
    with open_h5(path, "r", rdcc_nbytes=_chunk_row_cache_bytes(path), rdcc_nslots=100_003) as f:
        missing = [n for n in (*RASTERS, "latitude", "longitude") if n not in f]
        if missing:
            raise ValueError(f"{path}: not a canonical interferogram, missing datasets {missing}")
        for key in ("subswath", "flight_direction", "heading_deg"):
            if key not in attrs:
                raise ValueError(f"{path}: interferogram attribute {key!r} missing")
        lat, lon = TiePointGrid.read(f, "latitude"), TiePointGrid.read(f, "longitude")
        rows, cols = f["i"].shape
        extra = [c for c in channels if c in ("unwrapped", "los_displacement")]
        for name in extra:
            if name not in f and not (name == "los_displacement" and "unwrapped" in f):
                raise ValueError(f"{path}: channel {name!r} requested but the interferogram has no {name!r} raster")
        truth = f["truth/los_displacement"] if "truth" in f and "los_displacement" in f["truth"] else None
        threshold = label_threshold_m
        if threshold is None and truth is not None and "detectability_threshold_m" in f["truth"].attrs:
            threshold = float(f["truth"].attrs["detectability_threshold_m"])
        row_starts, col_starts = window_starts(rows, window, stride), window_starts(cols, window, stride)
        incidence = TiePointGrid.read(f, "incidence") if "incidence" in f else None
        turbulence_std = (float(f["truth"].attrs["turbulence_std_m"]) if truth is not None and "turbulence_std_m" in f["truth"].attrs
                          else np.nan)
        out_rows: list[dict[str, Any]] = []
        # open each raster once: its chunk cache then serves chunks shared by consecutive strips
        dsets = {n: f[n] for n in ("i", "q", "coherence", "valid", "unwrapped", "los_displacement") if n in f}
        for r0 in row_starts:
            sl = np.s_[int(r0):int(r0) + window, :]
            i, q, coh = (dsets[n][sl] for n in ("i", "q", "coherence"))
            mask = np.isfinite(i) & np.isfinite(q) & np.isfinite(coh) & ((i != 0) | (q != 0))
            if "valid" in dsets:
                mask &= dsets["valid"][sl] != 0
            extras = {}
            if "unwrapped" in channels or ("los_displacement" in channels and "los_displacement" not in f):
                extras["unwrapped"] = dsets["unwrapped"][sl]
            if "los_displacement" in channels and "los_displacement" in f:
                extras["los_displacement"] = dsets["los_displacement"][sl]
            for arr in extras.values():  # a requested optional raster must be finite where a pixel counts
                mask &= np.isfinite(arr)
            vf = _window_sums(mask.sum(axis=0), col_starts, window) / float(window * window)
            keep = vf >= float(cfg["min_valid_fraction"])
            keep &= vf > 0
            n_drop = int((~keep).sum())
            if n_drop:
                drops[DROP_REASON_VALID] = drops.get(DROP_REASON_VALID, 0) + n_drop
            starts = [int(c) for c in col_starts[keep]]
            if not starts:
                continue
            strips = {"i": i, "q": q, "coherence": coh, **extras}
            avg = masked_area_average_strip(strips, None if mask.all() else mask, starts, window, size)
            if "los_displacement" in channels and "los_displacement" not in avg:
                avg["los_displacement"] = phase_to_los(avg["unwrapped"], float(attrs.get("wavelength_m")))
            avg["phase"] = np.arctan2(avg["q"], avg["i"])
            avg["amplitude"] = np.hypot(avg["i"], avg["q"])
            block = np.stack([avg[c] for c in channels], axis=1)
            first = writer.append(block)
            truth_strip = truth[sl] if truth is not None else None
            for k, c0 in enumerate(starts):
                peak = np.nan
                if truth_strip is not None:
                    win = np.abs(truth_strip[:, c0:c0 + window])
                    peak = float(np.nanmax(win)) if np.isfinite(win).any() else np.nan
                out_rows.append({"h5_index": first + k, "row0": int(r0), "col0": c0, "row1": int(r0) + window,
                                 "col1": c0 + window, "valid_fraction": float(vf[keep][k]), "peak_abs_los_m": peak,
                                 "deformation": ("" if truth is None or threshold is None or not np.isfinite(peak)
                                                 else int(peak >= threshold)),
                                 "label_threshold_m": threshold if truth is not None else np.nan})
        south, north, west, east = footprint_bbox(lat, lon, rows, cols)
        n_windows = len(row_starts) * len(col_starts)
    geom = window_geometry(lat, lon, [r["row0"] for r in out_rows], [r["col0"] for r in out_rows],
                           [r["row1"] for r in out_rows], [r["col1"] for r in out_rows])
    source = {"file": str(path), "subswath": attrs["subswath"], "rows": int(rows), "cols": int(cols),
              "windows": int(n_windows), "kept": len(out_rows), "flight_direction": attrs["flight_direction"],
              "heading_deg": float(attrs["heading_deg"]), "track": attrs.get("track"),
              "scene_id": attrs.get("scene_id", ""), "looks_range": attrs.get("looks_range"),
              "looks_azimuth": attrs.get("looks_azimuth"),
              "range_pixel_spacing_m": attrs.get("range_pixel_spacing_m"),
              "azimuth_pixel_spacing_m": attrs.get("azimuth_pixel_spacing_m"),
              "reference_time": attrs.get("reference_time"), "secondary_time": attrs.get("secondary_time"),
              "backend": attrs.get("backend"),
              "footprint": {"south": south, "north": north, "west": west, "east": east},
              "uncovered_rows": int(rows - (row_starts[-1] + window)) if len(row_starts) else int(rows),
              "uncovered_cols": int(cols - (col_starts[-1] + window)) if len(col_starts) else int(cols)}
    add_source_columns(out_rows, geom, source, Path(path).name, incidence, turbulence_std)
    return out_rows, source


def add_source_columns(rows: list[dict[str, Any]], geom: dict[str, np.ndarray], source: dict[str, Any], source_file: str,
                       incidence: TiePointGrid | None, turbulence_std_m: float) -> None:
    """Add the geometry (``geom`` from :func:`window_geometry`) and the source interferogram's columns to
    ``rows`` (one per window, in order): scene, pass, times, footprint, centre incidence, turbulence."""
    fp = source["footprint"]
    for k, row in enumerate(rows):
        row.update({name: float(v[k]) for name, v in geom.items()})
        centre = ((row["row0"] + row["row1"] - 1) / 2.0, (row["col0"] + row["col1"] - 1) / 2.0)
        row.update({"scene_id": source["scene_id"], "subswath": source["subswath"],
                    "flight_direction": source["flight_direction"], "heading_deg": source["heading_deg"],
                    "track": source["track"], "reference_time": source["reference_time"],
                    "secondary_time": source["secondary_time"], "source_file": source_file,
                    "footprint_south": fp["south"], "footprint_north": fp["north"], "footprint_west": fp["west"],
                    "footprint_east": fp["east"],
                    "incidence_deg": float(incidence.at(*centre)) if incidence is not None else np.nan,
                    "turbulence_std_m": turbulence_std_m})


def add_learning_columns(rows: list[dict[str, Any]]) -> None:
    """Observable targets of each row (after its geometry and event columns are set).

    * ``epi_u``, ``epi_v``: the epicentre in the patch's own image frame, in normalised patch
      coordinates (u along increasing columns, v along increasing rows; -1 and +1 are the outer edges
      of the window, so ``|u|, |v| <= 1`` means the epicentre lies inside the patch):
      ``(u, v) = B^-1 (east, north)`` with ``B`` the half-width axis vectors of the footprint
      (:func:`quakesar.patches.geometry.axis_vectors`). The inverse map ``B (u, v)`` followed by
      :func:`quakesar.geodesy.polar_to_latlon` about the patch centre turns a predicted image-frame
      offset back into latitude/longitude, whatever the pass.
    * ``snr``: peak truth ``|LOS|`` in the window over the scene's turbulence standard deviation;
      ``signal``: 1 when ``snr >= quakesar.detectability.FACTOR`` (the signal-bearing patches that
      carry location and magnitude information), empty without truth.
    """
    if not rows:
        return
    corners = {k: (np.array([r[f"corner_{k}_lat"] for r in rows]), np.array([r[f"corner_{k}_lon"] for r in rows]))
               for k in CORNERS}
    basis = axis_vectors(corners, np.array([r["center_lat"] for r in rows]), np.array([r["center_lon"] for r in rows]))
    en = np.stack([np.array([r["east_km"] for r in rows]), np.array([r["north_km"] for r in rows])], axis=-1)
    uv = np.linalg.solve(basis, en[..., None])[..., 0]
    for k, r in enumerate(rows):
        r["epi_u"], r["epi_v"] = float(uv[k, 0]), float(uv[k, 1])
        peak, sigma = r.get("peak_abs_los_m", np.nan), r.get("turbulence_std_m", np.nan)
        if isinstance(peak, float) and np.isfinite(peak) and np.isfinite(sigma):
            d = Detectability(peak, float(sigma))
            r["snr"], r["signal"] = d.snr, int(d.detectable)
        else:
            r["snr"], r["signal"] = np.nan, ""


def add_event_columns(rows: list[dict[str, Any]], event: dict[str, Any]) -> None:
    """Add the epicentre, its geodesic distance/bearing/offsets from each centre, and the event fields."""
    if not rows:
        return
    clat = np.array([r["center_lat"] for r in rows])
    clon = np.array([r["center_lon"] for r in rows])
    dist, bearing, east, north = geodesic_polar(clat, clon, float(event["latitude"]), float(event["longitude"]))
    for k, r in enumerate(rows):
        r.update({"patch_id": f"{event['id']}_{r['source_file'].removesuffix('.h5')}_r{r['row0']}_c{r['col0']}",
                  "event_id": event["id"], "epicenter_lat": float(event["latitude"]),
                  "epicenter_lon": float(event["longitude"]), "distance_km": dist[k] / 1000.0,
                  "bearing_deg": bearing[k], "east_km": east[k] / 1000.0, "north_km": north[k] / 1000.0,
                  "magnitude": float(event["magnitude"]), "magnitude_type": event["magnitude_type"],
                  "mw": float(event["mw"]), "depth_km": float(event["depth_km"]), "event_time": event["time"]})


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The patch CSV text (stable formatting: 10 significant digits, empty for missing)."""
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *EXTRA_COLUMNS, *LEARNING_COLUMNS])
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.10g", lineterminator="\n")
    return buf.getvalue()


def tile_event(event: dict[str, Any], interferograms: list[Path], cfg: dict[str, Any], out_h5: Path, out_csv: Path,
               label_threshold_m: float | None = None, out_summary: Path | None = None) -> None:
    """Tile all ``interferograms`` of ``event`` into ``out_h5`` + ``out_csv`` (+ a summary JSON).

    ``cfg`` is the ``patches`` config section. The summary goes to ``out_summary`` (default:
    ``{csv stem}.summary.json`` beside the CSV). Zero interferograms or zero kept windows still
    give valid (empty) files.
    """
    _check_event(event)
    cfg = patch_config(cfg)
    files = sorted((Path(p) for p in interferograms), key=str)
    out_h5, out_csv = Path(out_h5), Path(out_csv)
    out_summary = Path(out_summary) if out_summary is not None else _summary_path(out_csv)
    _check_window_fits(event, files, cfg["window"])
    fp = _fingerprint(event, files, cfg, label_threshold_m)
    if out_h5.is_file() and out_csv.is_file() and out_summary.is_file():
        try:
            with open_h5(out_h5, "r") as f:
                if f.attrs.get("input_fingerprint") == fp:
                    log.info("%s: inputs unchanged, outputs left untouched", event["id"])
                    return
        except OSError:
            pass
    drops: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    with atomic_path(out_h5) as tmp, open_h5(tmp, "w", track_order=True) as f:
        writer = PatchWriter(f, len(cfg["channels"]), cfg["size"], cfg["dtype"], cfg["compression"])
        for path in files:
            r, src = _tile_one(path, event, cfg, writer, label_threshold_m, drops)
            rows.extend(r)
            sources.append(src)
            log.info("%s: %s -> %d of %d windows kept", event["id"], path, src["kept"], src["windows"])
        add_event_columns(rows, event)
        add_learning_columns(rows)
        summary = {"event_id": event["id"], "patches": len(rows), "windows": sum(s["windows"] for s in sources),
                   "dropped": drops, "interferograms": len(files), "window": cfg["window"], "stride": cfg["stride"],
                   "size": cfg["size"], "channels": cfg["channels"], "min_valid_fraction": cfg["min_valid_fraction"],
                   "sources": sources}
        ds = writer.ds
        ds.attrs["channels"] = json.dumps(cfg["channels"])
        ds.attrs["dtype"] = cfg["dtype"]
        f.attrs["format"] = FORMAT_VERSION
        f.attrs["event_id"] = event["id"]
        f.attrs["channels"] = json.dumps(cfg["channels"])
        f.attrs["source_files"] = json.dumps([str(p) for p in files])
        f.attrs["source_geometry"] = json.dumps(sources, sort_keys=True)
        f.attrs["patch_geometry"] = (
            "window rows [row0,row1) x cols [col0,col1) of the source raster (pixel centres at integers), "
            "area-averaged to size x size; corners at the window's outer pixel edges, rc = (first/last line, "
            "first/last sample); geolocation from the interferogram's tie-point grids; distances WGS84 geodesic")
        for key in ("window", "stride", "size", "min_valid_fraction"):
            f.attrs[key] = cfg[key]
        f.attrs["windows_total"] = summary["windows"]
        f.attrs["dropped_windows"] = json.dumps(drops, sort_keys=True)
        f.attrs["software_version"] = f"quakesar {__version__}"
        f.attrs["input_fingerprint"] = fp
    write_if_changed(out_csv, csv_text(rows))
    write_if_changed(out_summary, dumps_json(summary))
