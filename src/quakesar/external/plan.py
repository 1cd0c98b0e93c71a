"""Start-up validation of the ``external`` config section: which products each event has.

Two ways to say where an event's products are (both may be used; an explicit entry wins for its
event):

* the directory convention: everything under ``<external.dir>/<event id>/`` (default
  ``data/external/<event>/``) is searched for LiCSAR and HyP3 products (unpacked or zipped), see
  :func:`quakesar.external.layouts.find_products`;
* ``external.events``: event id -> list of entries, each a path (a product directory, a HyP3 zip)
  or an object: ``{path: ...}`` (the same, with options) or a generic product ``{layout: geotiff |
  raw, unwrapped: ..., coherence: ..., ...}`` (:func:`quakesar.external.layouts.generic_spec`).

Errors stop the run before any job with the config key, the path and what was expected: an
event id that the catalog selection does not contain, a missing file or directory, files that
match no known layout, a product without a required file, two products with the same id. The
rasters themselves are opened only by the import job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quakesar.external.layouts import LayoutError, ProductSpec, find_products, generic_spec

DEFAULT_DIR = "data/external"


class ExternalConfigError(ValueError):
    """The ``external`` config section names something that does not exist or cannot be read."""


def _entry_specs(entry: Any, where: str, base: Path) -> list[ProductSpec]:
    if isinstance(entry, str):
        path = Path(entry) if Path(entry).is_absolute() else base / entry
        try:
            return find_products(path)
        except FileNotFoundError:
            raise ExternalConfigError(f"{where}: {path} does not exist") from None
        except LayoutError as exc:
            raise ExternalConfigError(f"{where}: {exc}") from None
    if isinstance(entry, dict):
        if "layout" in entry and entry["layout"] in ("geotiff", "raw"):
            try:
                return [generic_spec(entry, base, where)]
            except FileNotFoundError as exc:
                raise ExternalConfigError(str(exc)) from None
            except LayoutError as exc:
                raise ExternalConfigError(str(exc)) from None
        if set(entry) - {"path", "layout", "name"}:
            raise ExternalConfigError(f"{where}: unknown keys {sorted(set(entry) - {'path', 'layout', 'name'})}; a "
                                      "product directory/zip entry takes path (and optionally layout to check it)")
        if "path" not in entry:
            raise ExternalConfigError(f"{where}: an object entry needs path, or layout: geotiff | raw with file roles")
        specs = _entry_specs(str(entry["path"]), where, base)
        want = entry.get("layout")
        if want is not None:
            wrong = [f"{s.product_id} is {s.layout}" for s in specs if s.layout != want]
            if wrong:
                raise ExternalConfigError(f"{where}: layout {want!r} requested but {'; '.join(wrong)}")
        if entry.get("name"):
            if len(specs) != 1:
                raise ExternalConfigError(f"{where}: name given but {entry['path']} holds {len(specs)} products")
            specs[0].product_id = str(entry["name"])
        return specs
    raise ExternalConfigError(f"{where}: expected a path or an object, got {type(entry).__name__}")


def plan_external(external: dict[str, Any] | None, events: list[str], base: str | Path = ".") -> dict[str, list[ProductSpec]]:
    """Event id -> its products, for the selected ``events`` (module docstring).

    ``external`` is the config section; relative paths are resolved against ``base``. Events
    without products are absent from the result (they get no interferogram, like an ASF event
    without a pair).
    """
    external = external or {}
    base = Path(base)
    selected = set(events)
    mapping = external.get("events") or {}
    if not isinstance(mapping, dict):
        raise ExternalConfigError("external.events: expected a mapping of event id -> list of products")
    unknown = sorted(set(mapping) - selected)
    if unknown:
        preview = ", ".join(sorted(selected)[:8]) + (" ..." if len(selected) > 8 else "")
        raise ExternalConfigError(
            f"external.events: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the catalog "
            f"selection of this config ({len(selected)} events: {preview}); add the id to catalog.event_ids or widen "
            "the catalog filters")
    plan: dict[str, list[ProductSpec]] = {}
    for event, entries in mapping.items():
        if isinstance(entries, (str, dict)):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise ExternalConfigError(f"external.events.{event}: expected a non-empty list of products")
        specs: list[ProductSpec] = []
        for k, entry in enumerate(entries):
            specs += _entry_specs(entry, f"external.events.{event}[{k}]", base)
        plan[event] = specs
    root = Path(external.get("dir") or DEFAULT_DIR)
    root = root if root.is_absolute() else base / root
    for event in events:
        if event in plan:
            continue
        folder = root / event
        if folder.is_dir():
            try:
                plan[event] = find_products(folder)
            except LayoutError as exc:
                raise ExternalConfigError(f"external.dir ({root}): event {event}: {exc}") from None
    for event, specs in plan.items():
        seen: dict[str, str] = {}
        for s in specs:
            if s.product_id in seen:
                raise ExternalConfigError(f"event {event}: two products with the id {s.product_id!r} "
                                          f"({seen[s.product_id]} and {next(iter(s.files.values()))}): the same "
                                          "product both unpacked and zipped? Keep one, or give one a name")
            seen[s.product_id] = next(iter(s.files.values()))
    return plan


def product_files(spec: ProductSpec) -> list[str]:
    """The files (zip archives for zipped members) an import job reads: its Snakemake inputs."""
    return sorted({f.split("!", 1)[0] for f in spec.files.values()})
