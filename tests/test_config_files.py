"""Every config file shipped in config/ is valid as Snakemake sees it: merged onto config/config.yaml
(the Snakefile's configfile; Snakemake merges --configfile mappings recursively), defaults filled
and validated, and its catalog selection is not empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from quakesar.catalog.stage import load_selection
from quakesar.config import SCHEMA_PATH, prepare_config

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (ROOT / "config").glob("*.yaml"))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_config_is_valid_and_selects_events(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # catalog paths in the configs are relative to the checkout
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg = prepare_config(_merge(base, yaml.safe_load(path.read_text()) or {}), SCHEMA_PATH, source=path.name)
    events = load_selection(cfg["catalog"]).events
    assert events, f"{path.name}: the catalog selection is empty"


def test_merge_is_recursive():
    assert _merge({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 5}}) == {"a": {"b": 5, "c": 2}, "d": 3}
