"""Read the ENVI raster files inside a BEAM-DIMAP product (``<name>.data/<band>.hdr`` + ``.img``).

SNAP's DIMAP writer stores every band and tie-point grid as one single-band ENVI file pair:
a text header and a headerless raw image, band-sequential, **big-endian** (``byte order = 1``)
because SNAP writes through Java's ``ImageOutputStream``. The header keys and the numeric
``data type`` codes below are those of the ENVI header format (Harris/L3Harris, "ENVI Header
Files" documentation: 1=uint8, 2=int16, 3=int32, 4=float32, 5=float64, 6=complex64,
9=complex128, 12=uint16, 13=uint32, 14=int64, 15=uint64; ``byte order`` 0 little / 1 big
endian), and match the headers of the real SNAP product in ``tests/fixtures/snap/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: ENVI ``data type`` code -> numpy dtype character code (byte order added from the header).
ENVI_DTYPES: dict[int, str] = {
    1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 6: "c8", 9: "c16", 12: "u2", 13: "u4", 14: "i8", 15: "u8",
}

_LINE = re.compile(r"^\s*([^=]+?)\s*=\s*(.*)$")


@dataclass(frozen=True)
class EnviHeader:
    """The keys of an ENVI header that locate and decode the raw raster."""

    path: Path
    samples: int
    lines: int
    bands: int
    data_type: int
    byte_order: int
    header_offset: int = 0
    interleave: str = "bsq"
    band_names: tuple[str, ...] = ()
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of one sample, with the header's byte order."""
        return np.dtype(("<" if self.byte_order == 0 else ">") + ENVI_DTYPES[self.data_type])

    @property
    def image_path(self) -> Path:
        """SNAP names the raw file like the header with ``.img``."""
        return self.path.with_suffix(".img")


def _parse_value(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("{") and raw.endswith("}"):
        return raw[1:-1].strip()
    return raw


def read_header(path: str | Path) -> EnviHeader:
    """Parse an ENVI ``.hdr`` file; raises ``ValueError`` naming the file and the missing/bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: ENVI header not found") from None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "ENVI":
        raise ValueError(f"{path}: not an ENVI header (first line must be 'ENVI')")
    values: dict[str, str] = {}
    pending = ""
    for line in lines[1:]:
        pending = f"{pending} {line}".strip() if pending else line
        if pending.count("{") > pending.count("}"):
            continue  # a {...} value that spans several lines
        m = _LINE.match(pending)
        if m:
            values[m.group(1).strip().lower()] = _parse_value(m.group(2))
        pending = ""

    def integer(key: str, default: int | None = None) -> int:
        if key not in values:
            if default is None:
                raise ValueError(f"{path}: ENVI header lacks '{key}'")
            return default
        try:
            return int(values[key])
        except ValueError:
            raise ValueError(f"{path}: ENVI header '{key}' = {values[key]!r}, expected an integer") from None

    data_type = integer("data type")
    if data_type not in ENVI_DTYPES:
        raise ValueError(f"{path}: ENVI data type {data_type} not supported (known: {sorted(ENVI_DTYPES)})")
    byte_order = integer("byte order", 0)
    if byte_order not in (0, 1):
        raise ValueError(f"{path}: ENVI byte order {byte_order}, expected 0 or 1")
    names = tuple(n.strip() for n in values.get("band names", "").split(",") if n.strip())
    known = {"samples", "lines", "bands", "data type", "byte order", "header offset", "interleave",
             "band names", "description"}
    return EnviHeader(
        path=path, samples=integer("samples"), lines=integer("lines"), bands=integer("bands", 1),
        data_type=data_type, byte_order=byte_order, header_offset=integer("header offset", 0),
        interleave=values.get("interleave", "bsq").lower(), band_names=names,
        description=values.get("description", ""),
        extra={k: v for k, v in values.items() if k not in known},
    )


def read_raster(header: EnviHeader | str | Path, band: int = 0, mmap: bool = True) -> np.ndarray:
    """The ``[lines, samples]`` raster of ``band`` (0-based) in native byte order.

    With ``mmap`` the file is memory-mapped (a full Sentinel-1 subswath band is ~1 GB) and only
    the converted copy is materialised by the caller's slicing; checks the file size first.
    """
    hdr = header if isinstance(header, EnviHeader) else read_header(header)
    if hdr.interleave != "bsq" and hdr.bands > 1:
        raise ValueError(f"{hdr.path}: interleave {hdr.interleave!r} with {hdr.bands} bands not supported (SNAP writes bsq)")
    if not 0 <= band < hdr.bands:
        raise ValueError(f"{hdr.path}: band {band} requested, file has {hdr.bands}")
    img = hdr.image_path
    if not img.is_file():
        raise FileNotFoundError(f"{img}: ENVI image missing (header {hdr.path})")
    n = hdr.samples * hdr.lines
    expected = hdr.header_offset + n * hdr.bands * hdr.dtype.itemsize
    size = img.stat().st_size
    if size < expected:
        raise ValueError(f"{img}: {size} bytes, expected {expected} for {hdr.bands}x{hdr.lines}x{hdr.samples} "
                         f"{hdr.dtype.str} samples (header {hdr.path})")
    offset = hdr.header_offset + band * n * hdr.dtype.itemsize
    if mmap:
        arr = np.memmap(img, dtype=hdr.dtype, mode="r", offset=offset, shape=(hdr.lines, hdr.samples))
    else:
        arr = np.fromfile(img, dtype=hdr.dtype, count=n, offset=offset).reshape(hdr.lines, hdr.samples)
    return arr
