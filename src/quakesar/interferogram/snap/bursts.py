"""Burst ids (from the pairs file) -> TOPSAR-Split burst indices of one SLC.

The search stage names the bursts over the epicentre by their ESA relative burst id
(``results/pairs/{event}.json``: ``bursts: {"IW2": [230133, 230134], ...}``). SNAP's
TOPSAR-Split selects bursts by 1-based position in the subswath (``firstBurstIndex``,
``lastBurstIndex``, TOPSARSplitOp). Each acquisition may start at a different burst, so the
positions are looked up per SLC in its own annotation with :func:`quakesar.asf.safe.read_safe`
(the ``swathTiming/burstList/burst`` elements in order, their ``burstId`` or, for annotations
older than IPF 3.40, the id computed from ``azimuthAnxTime``). The SLC may be the downloaded
``.zip`` or an unpacked ``.SAFE`` directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from quakesar.asf.safe import read_safe
from quakesar.interferogram.snap.graph import BurstRange


def annotation_burst_ids(slc: str | Path, subswath: str, polarisation: str = "VV") -> list[int]:
    """Relative burst ids of the subswath's bursts, in annotation order (TOPSAR-Split index = position + 1)."""
    if not Path(slc).exists():
        raise FileNotFoundError(f"{slc}: SLC not found")
    swaths = [a for a in read_safe(slc, polarisation) if a.subswath == subswath]
    if not swaths:
        raise ValueError(f"{slc}: no {subswath} {polarisation} annotation (is it a Sentinel-1 IW SLC?)")
    bursts = sorted(swaths[0].bursts, key=lambda b: b.index)
    if not bursts:
        raise ValueError(f"{slc}: {subswath} {polarisation} annotation lists no bursts")
    return [b.burst_id for b in bursts]


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
