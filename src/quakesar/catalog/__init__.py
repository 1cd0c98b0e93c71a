"""Earthquake catalogs: reading ComCat CSV/GeoJSON (and FDSN queries), filtering, deduplication, event records."""

from quakesar.catalog.model import CatalogError, Event
from quakesar.catalog.read import read_catalog
from quakesar.catalog.select import select_events

__all__ = ["CatalogError", "Event", "read_catalog", "select_events"]
