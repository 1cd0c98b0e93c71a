"""The event record: one earthquake as every later stage sees it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from quakesar.atomic import dumps_json


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file, line (or feature) and column."""


@dataclass(frozen=True)
class Event:
    """One catalog earthquake.

    ``magnitude``/``magnitude_type`` are as the catalog gives them; ``mw`` is the moment magnitude the
    physics uses (see :mod:`quakesar.catalog.magnitudes`). ``time`` is timezone-aware UTC.
    """

    id: str
    time: datetime
    latitude: float
    longitude: float
    depth_km: float
    magnitude: float
    magnitude_type: str
    mw: float
    place: str
    type: str
    updated: str
    source_file: str
    source_line: int

    def record(self) -> dict[str, Any]:
        """The JSON-able per-event record (docs/architecture.md, "Event record")."""
        rec = asdict(self)
        rec["time"] = format_time(self.time)
        return rec

    def stable_record(self) -> dict[str, Any]:
        """The record without the provenance fields that do not change results (source file and
        line, ComCat's ``updated`` stamp): what every per-event job depends on."""
        rec = self.record()
        for key in ("source_file", "source_line", "updated"):
            rec.pop(key)
        return rec

    def record_json(self) -> str:
        """Canonical JSON text of :meth:`stable_record` (the file ``catalog/events/{id}.json``)."""
        return dumps_json(self.stable_record())


def format_time(t: datetime) -> str:
    """ISO 8601 UTC with millisecond precision and a ``Z`` suffix, as ComCat writes it."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` or offset; a naive time is UTC); raises ValueError."""
    text = text.strip()
    if not text:
        raise ValueError("empty time")
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
