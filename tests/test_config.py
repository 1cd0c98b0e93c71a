"""Config validation: defaults, unknown keys and wrong types reported with their dotted path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from quakesar.config import ConfigError, load_config, prepare_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["config/config.yaml", ".test/config.yaml"])
def test_shipped_configs_validate(path):
    cfg = load_config(ROOT / path)
    assert cfg["source"] == "synthetic" and cfg["interferogram"]["backend"] == "native"
    assert cfg["interferogram"]["goldstein"]["window"] == 3  # nested default filled


def test_defaults_filled_from_schema():
    cfg = prepare_config({})
    assert cfg["catalog"]["start"] == "2014-10-03"
    assert cfg["catalog"]["event_types"] == ["earthquake"]
    assert cfg["interferogram"]["multilook"] == {"range": 4, "azimuth": 1}
    assert cfg["simulate"]["shear_modulus_pa"] == 3.0e10


def test_unknown_key_names_dotted_path():
    with pytest.raises(ConfigError, match=r"catalog\.min_magnitdue: unknown key"):
        prepare_config({"catalog": {"min_magnitdue": 6}})
    with pytest.raises(ConfigError, match=r"interferogram\.goldstein\.alfa: unknown key"):
        prepare_config({"interferogram": {"goldstein": {"alfa": 0.5}}})
    with pytest.raises(ConfigError, match=r"(?m)^  colour: unknown key"):
        prepare_config({"colour": "red"})


def test_wrong_type_names_dotted_path():
    with pytest.raises(ConfigError, match=r"catalog\.min_magnitude: 'six' has the wrong type"):
        prepare_config({"catalog": {"min_magnitude": "six"}})
    with pytest.raises(ConfigError, match=r"interferogram\.backend: 'gamma' is not one of"):
        prepare_config({"interferogram": {"backend": "gamma"}})
    with pytest.raises(ConfigError, match=r"catalog\.event_ids\.0"):
        prepare_config({"catalog": {"event_ids": ["bad id/with slash"]}})


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="interferogram.backend"):
        prepare_config({"source": "synthetic", "interferogram": {"backend": "snap"}})
    with pytest.raises(ConfigError, match="catalog.min_magnitude: 7 is larger"):
        prepare_config({"catalog": {"min_magnitude": 7, "max_magnitude": 6}})
    with pytest.raises(ConfigError, match="dataset.fractions"):
        prepare_config({"dataset": {"fractions": {"train": 0.9, "val": 0.2, "test": 0.1}}})


def test_load_config_rejects_non_mapping(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(p)
