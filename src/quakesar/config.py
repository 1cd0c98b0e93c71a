"""Configuration: defaults, validation with dotted key paths, and cross-field checks.

The single source of truth is the JSON schema ``workflow/schemas/config.schema.yaml`` (draft
2020-12, written in YAML): every key, its type and its default. :func:`prepare_config` fills in
the defaults and validates; an unknown key or a wrong type raises :class:`ConfigError` with the
dotted path of the offending key (e.g. ``catalog.min_magnitude``), so that a typo stops the run
at start-up instead of deep inside the DAG.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG_PATH = REPO_ROOT / "config" / "config.yaml"


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type or range."""


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """The config schema as a dict."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def fill_defaults(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``config`` with every missing key that has a schema default filled in (recursively)."""
    out = copy.deepcopy(config) if config is not None else {}
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if isinstance(out.get(key), dict) and sub.get("type") == "object":
            out[key] = fill_defaults(out[key], sub)
    return out


def _dotted(path: Any) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _dotted(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        prefix = f"{where}." if error.absolute_path else ""
        return "; ".join(f"{prefix}{k}: unknown key (allowed here: {', '.join(allowed)})" for k in extra)
    if error.validator == "type":
        return f"{where}: {error.instance!r} has the wrong type, expected {error.validator_value}"
    if error.validator == "enum":
        return f"{where}: {error.instance!r} is not one of {error.validator_value}"
    return f"{where}: {error.message}"


def validate_config(config: dict[str, Any], schema: dict[str, Any] | None = None, source: str = "config") -> None:
    """Validate against the schema and the cross-field rules; raise ConfigError listing every problem."""
    schema = schema if schema is not None else load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    problems = [_describe(e) for e in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))]
    if not problems:
        problems = _cross_field_problems(config)
    if problems:
        raise ConfigError(f"invalid {source}:\n  " + "\n  ".join(problems))


def _cross_field_problems(config: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    source = config.get("source")
    backend = config.get("interferogram", {}).get("backend")
    if source == "synthetic" and backend == "snap":
        problems.append("interferogram.backend: 'snap' reads real Sentinel-1 SLC zips; with source 'synthetic' use 'native'")
    if source == "asf" and backend == "native":
        problems.append("interferogram.backend: the native backend needs coregistrable SLC pairs (source 'synthetic'); "
                        "for source 'asf' use 'snap'")
    if backend == "snap" and config.get("search", {}).get("burst_products"):
        problems.append("search.burst_products: ASF burst products are single-burst TIFFs that SNAP's TOPSAR chain "
                        "cannot read; use full SLCs (burst_products: false) with interferogram.backend 'snap'")
    cat = config.get("catalog", {})
    for lo, hi in (("min_magnitude", "max_magnitude"), ("min_depth_km", "max_depth_km")):
        if cat.get(lo) is not None and cat.get(hi) is not None and cat[lo] > cat[hi]:
            problems.append(f"catalog.{lo}: {cat[lo]} is larger than catalog.{hi} ({cat[hi]})")
    fr = config.get("dataset", {}).get("fractions", {})
    if fr and abs(sum(fr.values()) - 1.0) > 1e-6:
        problems.append(f"dataset.fractions: train + val + test must sum to 1, got {sum(fr.values()):.4f}")
    return problems


def prepare_config(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH, source: str = "config") -> dict[str, Any]:
    """Fill defaults and validate; returns the complete config."""
    schema = load_schema(schema_path)
    full = fill_defaults(config or {}, schema)
    validate_config(full, schema, source=source)
    return full


def load_config(path: str | Path = DEFAULT_CONFIG_PATH, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a YAML config file, apply nested ``overrides`` and return it prepared (defaults + validation)."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys at the top level")
    if overrides:
        raw = deep_update(raw, overrides)
    return prepare_config(raw, source=str(path))


def deep_update(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``update`` merged in recursively (mappings merge, anything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
