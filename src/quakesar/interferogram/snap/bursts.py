"""Burst ids (from the pairs file) -> TOPSAR-Split burst indices of one SLC.

The search stage names the bursts over the epicentre by their ESA relative burst id
(``results/pairs/{event}.json``: ``bursts: {"IW2": [230133, 230134], ...}``). SNAP's
TOPSAR-Split selects bursts by 1-based position in the subswath (``firstBurstIndex``,
``lastBurstIndex``, TOPSARSplitOp). Each acquisition may start at a different burst, so the
positions are looked up per SLC in its annotation: the ``swathTiming/burstList/burst``
elements in order, each with ``<burstId absolute="...">relative id</burstId>`` (Sentinel-1
Product Specification S1-RS-MDA-52-7441, annotation data set; present since IPF 3.40, 2021).
The SLC may be the downloaded ``.zip`` or an unpacked ``.SAFE`` directory.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from quakesar.interferogram.snap.graph import BurstRange


def _annotation_name(names: list[str], subswath: str, polarisation: str, where: Path) -> str:
    pattern = re.compile(rf"(^|/)annotation/s1[a-d]-{subswath.lower()}-slc-{polarisation.lower()}-[^/]+\.xml$")
    hits = sorted(n for n in names if pattern.search(n))
    if not hits:
        raise FileNotFoundError(f"{where}: no annotation/s1?-{subswath.lower()}-slc-{polarisation.lower()}-*.xml "
                                "(is it a Sentinel-1 IW SLC?)")
    return hits[0]


def read_annotation(slc: str | Path, subswath: str, polarisation: str = "VV") -> bytes:
    """The annotation XML of one subswath/polarisation from a SAFE ``.zip`` or ``.SAFE`` directory."""
    slc = Path(slc)
    if slc.is_dir():
        names = [str(p.relative_to(slc)) for p in slc.rglob("*.xml")]
        return (slc / _annotation_name(names, subswath, polarisation, slc)).read_bytes()
    if not slc.is_file():
        raise FileNotFoundError(f"{slc}: SLC not found")
    try:
        with zipfile.ZipFile(slc) as zf:
            return zf.read(_annotation_name(zf.namelist(), subswath, polarisation, slc))
    except zipfile.BadZipFile:
        raise ValueError(f"{slc}: not a zip file (expected a Sentinel-1 SAFE zip)") from None


def annotation_burst_ids(slc: str | Path, subswath: str, polarisation: str = "VV") -> list[int]:
    """Relative burst ids of the subswath's bursts, in annotation order (index = position + 1)."""
    root = ET.fromstring(read_annotation(slc, subswath, polarisation))
    bursts = root.findall("swathTiming/burstList/burst")
    if not bursts:
        raise ValueError(f"{slc}: {subswath} {polarisation} annotation has no swathTiming/burstList/burst")
    ids: list[int] = []
    for k, burst in enumerate(bursts, start=1):
        text = burst.findtext("burstId")
        if text is None or not text.strip().isdigit():
            raise ValueError(f"{slc}: {subswath} burst {k} has no <burstId> (annotation older than IPF 3.40); "
                             "set interferogram.snap.bursts: all to process the whole subswath")
        ids.append(int(text))
    return ids


def parse_burst_id(value: Any) -> int:
    """A relative burst id from a pairs-file entry: ``230133``, ``"230133"``, ``"108_230133_IW2"``, ``{"burst_id": ..}``."""
    if isinstance(value, bool):
        raise ValueError(f"burst entry {value!r}: expected a burst id")
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for key in ("burst_id", "relative_burst_id", "id"):
            if key in value:
                return parse_burst_id(value[key])
        raise ValueError(f"burst entry {value!r}: expected a key burst_id, relative_burst_id or id")
    if isinstance(value, str):
        m = re.search(r"(\d+)_IW[123]", value) or re.fullmatch(r"\s*(\d+)\s*", value)
        if m:
            return int(m.group(1))
    raise ValueError(f"burst entry {value!r}: expected a relative burst id (integer)")


def burst_range(slc: str | Path, subswath: str, wanted: list[Any], polarisation: str = "VV") -> BurstRange:
    """The TOPSAR-Split range of this SLC covering every wanted burst id (contiguous, so gaps are filled)."""
    ids = annotation_burst_ids(slc, subswath, polarisation)
    want = sorted({parse_burst_id(v) for v in wanted})
    if not want:
        raise ValueError(f"{slc}: no burst ids given for {subswath}")
    missing = [b for b in want if b not in ids]
    if missing:
        raise ValueError(f"{slc}: {subswath} bursts {missing} are not in this SLC (it has {ids[0]}..{ids[-1]})")
    positions = [ids.index(b) + 1 for b in want]
    return BurstRange(min(positions), max(positions))
