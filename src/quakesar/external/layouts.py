"""Which files make up an external product, found by name (no raster is opened here).

A :class:`ProductSpec` is what the start-up validation produces for each product of an event:
its id (the ``{product}`` of ``results/interferograms/{event}/ext_{product}.h5``), its layout and
its files by role. It is plain JSON (it travels to the import job as a parameter).

Layouts and the names they are recognised by (each product's own documentation):

``licsar`` (COMET LiCSAR, https://comet.nerc.ac.uk/comet-lics-portal/ and the LiCSAR product
    description): per pair ``<ref>_<sec>.geo.unw.tif`` (unwrapped phase, rad),
    ``<ref>_<sec>.geo.diff_pha.tif`` (wrapped, filtered phase, rad), ``<ref>_<sec>.geo.cc.tif``
    (coherence, 0-255 or 0-1); per frame ``<frame>.geo.E.tif``, ``.N.tif``, ``.U.tif``
    (ground-to-satellite unit vector components) and ``metadata.txt``, as in LiCSAR's
    ``<track>/<frame>/interferograms/<pair>/`` and ``<track>/<frame>/metadata/`` folders.
``hyp3_gamma`` / ``hyp3_isce_burst`` (ASF HyP3 INSAR_GAMMA / INSAR_ISCE_BURST, product guides at
    https://hyp3-docs.asf.alaska.edu/): ``<name>_unw_phase.tif``, ``<name>_corr.tif``,
    ``<name>_wrapped_phase.tif``, ``<name>_lv_theta.tif``, ``<name>_lv_phi.tif``,
    ``<name>_los_disp.tif``, ``<name>_inc_map_ell.tif``, ``<name>_water_mask.tif``,
    ``<name>.txt`` and the README, unpacked or in ``<name>.zip``. ``<name>`` starting with
    ``S1_<burst id>_IW<n>_`` is an ISCE2 burst product, ``S1<x><y>_`` a GAMMA one.
``geotiff`` / ``raw`` (a generic geocoded grid, e.g. from ISCE2, GAMMA or GMTSAR): given
    explicitly in the config with its roles (``unwrapped``, ``wrapped``, ``los_displacement``,
    ``coherence``, ``incidence`` or ``east``/``north``/``up``) and conventions
    (:data:`GENERIC_KEYS`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LAYOUTS = ("licsar", "hyp3_gamma", "hyp3_isce_burst", "geotiff", "raw")
HYP3_ROLES = {"_unw_phase.tif": "unwrapped", "_corr.tif": "coherence", "_wrapped_phase.tif": "wrapped",
              "_lv_theta.tif": "lv_theta", "_lv_phi.tif": "lv_phi", "_los_disp.tif": "los_displacement",
              "_inc_map_ell.tif": "incidence_ellipsoid", "_water_mask.tif": "water_mask"}
LICSAR_ROLES = {".geo.unw.tif": "unwrapped", ".geo.diff_pha.tif": "wrapped", ".geo.cc.tif": "coherence"}
LICSAR_VECTORS = {".geo.E.tif": "east", ".geo.N.tif": "north", ".geo.U.tif": "up"}
#: config keys of a generic (``geotiff``/``raw``) product entry
GENERIC_FILE_ROLES = ("unwrapped", "wrapped", "los_displacement", "coherence", "incidence", "east", "north", "up")
GENERIC_KEYS = GENERIC_FILE_ROLES + (
    "layout", "path", "name", "phase_sign", "displacement_sign", "displacement_units", "incidence_units",
    "heading_deg", "reference_time", "secondary_time", "flight_direction", "track", "wavelength_m",
    "byte_order", "pixel_registration", "interleave", "nodata", "coherence_scale", "bands", "vector_direction")
_HYP3_BURST = re.compile(r"^S1_\d{6}_IW[123]_\d{8}_\d{8}_[VH]{2}_INT\d+_\w{4}$")
#: INSAR_ISCE_MULTI_BURST (the same ISCE2 plugin, conventions and files), e.g.
#: S1A_064_E053_1_N27_3_E054_1_N27_8_20200604_20200616_VV_INT80_7EB5
_HYP3_MULTI_BURST = re.compile(r"^S1[A-D]?_\d{3}_[A-Za-z0-9_]+_\d{8}_\d{8}_[VH]{2}_INT\d+_\w{4}$")
_HYP3_GAMMA = re.compile(r"^S1[A-D]{2}_\d{8}T\d{6}_\d{8}T\d{6}_[VH]{2}[PRO]\d{3}_INT\d+_G_[uw][ec][12F3]_\w{4}$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


class LayoutError(ValueError):
    """Files that match no known product layout, or a product missing a required file."""


@dataclass
class ProductSpec:
    """One external product of an event: id, layout, files by role, options (JSON-serialisable)."""

    product_id: str
    layout: str
    files: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "ProductSpec":
        try:
            return cls(str(doc["product_id"]), str(doc["layout"]), dict(doc["files"]), dict(doc.get("options") or {}))
        except (KeyError, TypeError) as exc:
            raise LayoutError(f"not a product spec ({exc}): {str(doc)[:200]}") from None


def safe_id(text: str) -> str:
    """A product id usable in file names and as a Snakemake wildcard (``[A-Za-z0-9_-]``)."""
    out = _SAFE_ID.sub("_", text).strip("_")
    if not out:
        raise LayoutError(f"cannot make a product id from {text!r}")
    return out


def hyp3_job_type(name: str) -> str | None:
    """``hyp3_isce_burst`` / ``hyp3_gamma`` from a HyP3 product name, None when neither."""
    if _HYP3_BURST.match(name) or _HYP3_MULTI_BURST.match(name):
        return "hyp3_isce_burst"
    if _HYP3_GAMMA.match(name):
        return "hyp3_gamma"
    return None


def _hyp3_from_names(names: list[str], prefix_path: str) -> list[ProductSpec]:
    """HyP3 products among file names (``prefix_path`` + name is a file's address)."""
    groups: dict[str, dict[str, str]] = {}
    for full in names:
        base = full.rsplit("/", 1)[-1]
        for suffix, role in HYP3_ROLES.items():
            if base.endswith(suffix):
                groups.setdefault(base[: -len(suffix)], {})[role] = prefix_path + full
    specs = []
    for name, files in sorted(groups.items()):
        layout = hyp3_job_type(name)
        if layout is None:
            raise LayoutError(f"{prefix_path or '.'}{name}: HyP3-style file names, but {name!r} is neither an "
                              "INSAR_GAMMA (S1xy_<date>T<time>_<date>T<time>_...) nor an INSAR_ISCE_BURST "
                              "(S1_<burst>_IWn_<date>_<date>_...) product name")
        hit = [n for n in names if n.rsplit("/", 1)[-1] == f"{name}.txt"]
        if hit:
            files["parameters"] = prefix_path + hit[0]
        readme = [n for n in names if n.rsplit("/", 1)[-1] in (f"{name}.README.md.txt", f"{name}_README.md.txt",
                                                                 f"{name}.README.md")]
        if readme:
            files["readme"] = prefix_path + readme[0]
        if "parameters" not in files:
            raise LayoutError(f"HyP3 product {name}: its parameter file {name}.txt is missing "
                              "(it holds the granules, times, pass direction and heading)")
        if "unwrapped" not in files and "wrapped" not in files and "los_displacement" not in files:
            raise LayoutError(f"HyP3 product {name}: none of {name}_unw_phase.tif, _wrapped_phase.tif, _los_disp.tif")
        if "coherence" not in files:
            raise LayoutError(f"HyP3 product {name}: {name}_corr.tif (coherence) is missing")
        specs.append(ProductSpec(safe_id(name), layout, files))
    return specs


def _licsar_in_dir(root: Path) -> list[ProductSpec]:
    pairs: dict[str, dict[str, str]] = {}
    for p in sorted(root.rglob("*.geo.*.tif")):
        for suffix, role in LICSAR_ROLES.items():
            if p.name.endswith(suffix):
                pairs.setdefault(p.name[: -len(suffix)], {})[role] = str(p)
    if not pairs:
        return []
    vectors: dict[str, dict[str, str]] = {}
    for p in sorted(root.rglob("*.geo.[ENU].tif")):
        for suffix, role in LICSAR_VECTORS.items():
            if p.name.endswith(suffix):
                vectors.setdefault(p.name[: -len(suffix)], {})[role] = str(p)
    metas = sorted(root.rglob("metadata.txt"))
    specs = []
    for pair, files in sorted(pairs.items()):
        if not re.fullmatch(r"\d{8}_\d{8}", pair):
            raise LayoutError(f"{files[next(iter(files))]}: LiCSAR pair files are named YYYYMMDD_YYYYMMDD.geo.*.tif")
        here = Path(next(iter(files.values())))
        frames = [f for f in vectors if f in here.parts] or ([*vectors] if len(vectors) == 1 else [])
        if not frames:
            raise LayoutError(f"LiCSAR pair {pair} under {root}: no frame look vectors "
                              f"(<frame>.geo.E.tif, .N.tif, .U.tif) {'found' if not vectors else 'matching its path'}"
                              f"{'' if not vectors else ' among ' + ', '.join(sorted(vectors))}")
        frame = frames[0]
        missing = [r for r in ("east", "north", "up") if r not in vectors[frame]]
        if missing:
            raise LayoutError(f"LiCSAR frame {frame}: look-vector files missing: {missing}")
        files.update(vectors[frame])
        meta = [m for m in metas if frame in m.parts or frame in m.name] or (metas if len(metas) == 1 else [])
        if meta:
            files["metadata"] = str(meta[0])
        if "coherence" not in files:
            raise LayoutError(f"LiCSAR pair {pair}: {pair}.geo.cc.tif (coherence) is missing")
        if "unwrapped" not in files and "wrapped" not in files:
            raise LayoutError(f"LiCSAR pair {pair}: neither {pair}.geo.unw.tif nor {pair}.geo.diff_pha.tif")
        specs.append(ProductSpec(safe_id(f"{frame}_{pair}"), "licsar", files, {"frame": frame, "pair": pair}))
    return specs


def find_products(path: str | Path) -> list[ProductSpec]:
    """Products at ``path``: a HyP3 zip, or a directory holding LiCSAR/HyP3 products (and zips)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            raise LayoutError(f"{path}: not a readable zip archive") from None
        specs = _hyp3_from_names(names, f"{path}!")
        if not specs:
            raise LayoutError(f"{path}: no HyP3 product inside (expected <name>_unw_phase.tif, <name>_corr.tif, "
                              "<name>.txt)")
        return specs
    if path.is_dir():
        specs = _licsar_in_dir(path)
        files = [str(p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()]
        specs += _hyp3_from_names([f for f in files if not f.endswith(".zip")], f"{path}/")
        for z in sorted(path.rglob("*.zip")):
            specs += find_products(z)
        if not specs:
            raise LayoutError(
                f"{path}: no known product layout. Expected LiCSAR (<ref>_<sec>.geo.unw.tif/.geo.diff_pha.tif, "
                ".geo.cc.tif and <frame>.geo.E/N/U.tif), ASF HyP3 (<name>_unw_phase.tif, <name>_corr.tif, "
                "<name>.txt, unpacked or zipped), or list the files in the config with layout: geotiff | raw")
        return specs
    if path.exists():
        raise LayoutError(f"{path}: a single file is not a product; give its directory, its HyP3 zip, or a "
                          "config entry with layout: geotiff | raw and the file roles")
    raise FileNotFoundError(f"{path}: no such file or directory")


def generic_spec(entry: dict[str, Any], base: Path, where: str) -> ProductSpec:
    """A ``geotiff``/``raw`` product from an explicit config entry (paths relative to ``base``)."""
    unknown = sorted(set(entry) - set(GENERIC_KEYS))
    if unknown:
        raise LayoutError(f"{where}: unknown keys {unknown}; allowed: {sorted(GENERIC_KEYS)}")
    layout = entry.get("layout")
    if layout not in ("geotiff", "raw"):
        raise LayoutError(f"{where}: layout {layout!r}: an entry with file roles needs layout: geotiff or raw")
    files: dict[str, str] = {}
    for role in GENERIC_FILE_ROLES:
        value = entry.get(role)
        if isinstance(value, str):
            p = Path(value) if Path(value).is_absolute() else base / value
            if not p.is_file():
                raise FileNotFoundError(f"{where}.{role}: {p} does not exist")
            files[role] = str(p)
    if not any(r in files for r in ("unwrapped", "wrapped", "los_displacement")):
        raise LayoutError(f"{where}: give at least one of unwrapped, wrapped, los_displacement (file paths)")
    if ("unwrapped" in files or "wrapped" in files) and entry.get("phase_sign") not in (
            "range_increase_positive", "range_decrease_positive"):
        raise LayoutError(f"{where}.phase_sign: say which way the phase counts: range_increase_positive "
                          "(positive = away from the satellite, quakesar's, LiCSAR's and HyP3's convention) or "
                          "range_decrease_positive")
    if "los_displacement" in files and entry.get("displacement_sign") not in ("towards_positive", "away_positive"):
        raise LayoutError(f"{where}.displacement_sign: towards_positive (uplift positive) or away_positive")
    if not (("incidence" in entry) or all(r in files for r in ("east", "north", "up"))):
        raise LayoutError(f"{where}: the LOS geometry is needed: incidence (file or degrees) and heading_deg, "
                          "or east/north/up look-vector files")
    if "east" not in files and not isinstance(entry.get("heading_deg"), (int, float)):
        raise LayoutError(f"{where}.heading_deg: the platform heading (deg clockwise from north) is needed with incidence")
    for key in ("reference_time", "secondary_time"):
        if not isinstance(entry.get(key), str):
            raise LayoutError(f"{where}.{key}: an ISO 8601 UTC time is needed for a generic product")
    bands = entry.get("bands") or {}
    if not isinstance(bands, dict) or any(r not in files or not isinstance(b, int) or b < 1 for r, b in bands.items()):
        raise LayoutError(f"{where}.bands: expected {{<role>: <band number from 1>}} for roles given as files, got {bands!r}")
    options = {k: v for k, v in entry.items() if k not in GENERIC_FILE_ROLES or not isinstance(v, str)}
    options.pop("layout", None)
    main = files.get("unwrapped") or files.get("wrapped") or files["los_displacement"]
    name = entry.get("name") or Path(main).name.split(".")[0]
    return ProductSpec(safe_id(str(name)), layout, files, options)
