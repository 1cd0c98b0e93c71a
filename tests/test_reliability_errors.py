"""Bad input stops with a message that names its cause (issue 17, item 3).

* the config: a negative seed, and lists that must not be empty (``train.models: []`` used to run
  nothing and report nothing), fail validation naming the key;
* a ComCat CSV or GeoJSON file that starts with a UTF-8 byte-order mark reads like one without;
* ``patches.window`` larger than every raster of an event fails in the patch stage, naming the
  window and the raster sizes (an event whose windows are all invalid is still recorded, empty);
* a truncated or corrupt HDF5 file is named by every reader outside the learning/dataset stages
  (real HDF5 files, cut short or overwritten with garbage).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from quakesar.catalog import read_catalog
from quakesar.config import ConfigError, load_config, prepare_config
from quakesar.h5io import HDF5FileError, open_h5
from quakesar.patches.synthetic import make_interferogram
from quakesar.patches.tiling import tile_event

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "fixtures" / "catalog" / "comcat_small.csv"
EVENT = dict(id="ev1", latitude=35.2, longitude=40.3, magnitude=6.3, magnitude_type="mww", mw=6.3, depth_km=12.0,
             time="2020-01-05T00:00:00Z")


# ----------------------------------------------------------------------------- config


def _with(base: dict, dotted: str, value) -> dict:
    cfg = copy.deepcopy(base)
    *parents, leaf = dotted.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return cfg


@pytest.mark.parametrize("key, value, expected", [
    ("seed", -1, r"seed: -1 is less than the minimum of 0"),
    ("train.seeds", [0, -3], r"train\.seeds\.1: -3 is less than the minimum of 0"),
    ("ablation.seeds", [-1], r"ablation\.seeds\.0: -1 is less than the minimum of 0"),
    ("train.models", [], r"train\.models: \[\] should be non-empty"),
    ("train.tasks", [], r"train\.tasks: \[\] should be non-empty"),
    ("train.seeds", [], r"train\.seeds: \[\] should be non-empty"),
    ("ablation.lambdas", [], r"ablation\.lambdas: \[\] is too short"),
    ("simulate.subswaths", [], r"simulate\.subswaths: \[\] should be non-empty"),
    ("simulate.temporal_baseline_days", [], r"simulate\.temporal_baseline_days: \[\] should be non-empty"),
    ("patches.channels", [], r"patches\.channels: \[\] should be non-empty"),
])
def test_config_rejects_negative_seeds_and_empty_lists(key, value, expected):
    base = load_config(ROOT / ".test" / "config.yaml")
    prepare_config(base)  # the shipped tiny config is valid as it is
    with pytest.raises(ConfigError, match=expected):
        prepare_config(_with(base, key, value), source="test config")


def test_seed_zero_and_empty_catalog_filters_stay_valid():
    """Zero is a seed; an empty catalog.event_ids / magnitude_types means 'no restriction' (not changed)."""
    base = load_config(ROOT / ".test" / "config.yaml")
    prepare_config(_with(_with(_with(base, "seed", 0), "train.seeds", [0]), "catalog.event_ids", []))


# ----------------------------------------------------------------------------- catalog with a BOM


def test_catalog_csv_with_utf8_bom_reads_like_without(tmp_path):
    plain = read_catalog(CATALOG)
    bom = tmp_path / "excel-export.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + CATALOG.read_bytes())
    with_bom = read_catalog(bom)
    assert [e.id for e in with_bom] == [e.id for e in plain]
    assert [(e.time, e.source_line) for e in with_bom] == [(e.time, e.source_line) for e in plain]


def test_catalog_geojson_with_utf8_bom_is_detected_and_read(tmp_path):
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "us7000abcd",
        "properties": {"time": 1600000000000, "mag": 6.1, "magType": "mww", "place": "somewhere", "type": "earthquake",
                       "updated": 1600000100000},
        "geometry": {"type": "Point", "coordinates": [22.1, 39.7, 10.0]}}]}
    path = tmp_path / "events.txt"  # no .geojson suffix: the format is sniffed from the first bytes
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    (ev,) = read_catalog(path)
    assert ev.id == "us7000abcd" and ev.latitude == 39.7 and ev.magnitude == 6.1


# ----------------------------------------------------------------------------- patch window vs scene size


def test_window_larger_than_every_raster_names_window_and_sizes(tmp_path):
    make_interferogram(tmp_path / "IW1.h5", 50, 40, subswath="IW1")
    make_interferogram(tmp_path / "IW2.h5", 60, 30, subswath="IW2")
    with pytest.raises(ValueError, match=r"patches\.window: 100 px is larger than every interferogram raster of "
                                         r"event 'ev1' \(rows x cols: IW1\.h5: 50 x 40, IW2\.h5: 60 x 30\).*"
                                         r"patches\.window <= 40"):
        tile_event(EVENT, [tmp_path / "IW1.h5", tmp_path / "IW2.h5"], {"window": 100, "size": 10},
                   tmp_path / "p.h5", tmp_path / "p.csv")
    assert not (tmp_path / "p.h5").exists() and not (tmp_path / "p.csv").exists()


def test_window_that_fits_one_raster_and_all_invalid_events_are_still_recorded(tmp_path):
    make_interferogram(tmp_path / "IW1.h5", 50, 40, subswath="IW1")      # too small for the window
    make_interferogram(tmp_path / "IW2.h5", 200, 100, subswath="IW2")    # two windows
    tile_event(EVENT, [tmp_path / "IW1.h5", tmp_path / "IW2.h5"], {"window": 100, "size": 10},
               tmp_path / "p.h5", tmp_path / "p.csv")
    assert json.loads((tmp_path / "p.summary.json").read_text())["patches"] == 2
    make_interferogram(tmp_path / "IW3.h5", 200, 200, subswath="IW3", valid=np.zeros((200, 200), bool))
    tile_event(EVENT, [tmp_path / "IW3.h5"], {"window": 100, "size": 10}, tmp_path / "q.h5", tmp_path / "q.csv")
    summary = json.loads((tmp_path / "q.summary.json").read_text())
    assert summary["patches"] == 0 and summary["dropped"] == {"valid_fraction_below_min": 4}


# ----------------------------------------------------------------------------- HDF5 readers name the file


def _damaged(tmp_path: Path, name: str, how: str) -> Path:
    """A real HDF5 file (a canonical interferogram) cut to half its size, or its first 4 kB overwritten."""
    path = tmp_path / name
    make_interferogram(path, 120, 80)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2] if how == "truncated" else b"\0garbage" * 512 + raw[4096:])
    return path


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_every_hdf5_reader_names_a_damaged_file(tmp_path, how):
    from quakesar.interferogram.canonical import read_attrs, read_interferogram
    from quakesar.interferogram.native.pipeline import backend_parameters
    from quakesar.interferogram.native.scene import open_scene

    path = _damaged(tmp_path, f"IW2-{how}.h5", how)
    readers = {
        "open_h5": lambda: open_h5(path),
        "read_attrs": lambda: read_attrs(path),
        "read_interferogram": lambda: read_interferogram(path),
        "open_scene": lambda: open_scene(path),
        "backend_parameters": lambda: backend_parameters(path),
        "tile_event": lambda: tile_event(EVENT, [path], {"window": 20, "size": 10}, tmp_path / "p.h5",
                                         tmp_path / "p.csv"),
    }
    for name, read in readers.items():
        with pytest.raises(OSError) as err:
            read()
        msg = str(err.value)
        assert str(path) in msg and "truncated or corrupt" in msg, f"{name}: {msg}"
        assert isinstance(err.value, HDF5FileError), name


def test_a_damaged_patches_file_is_rewritten_not_fatal(tmp_path):
    """The patch stage's own output, damaged, is simply recomputed (the unchanged-inputs check reads it)."""
    make_interferogram(tmp_path / "IW1.h5", 100, 100)
    args = (EVENT, [tmp_path / "IW1.h5"], {"window": 50, "size": 10}, tmp_path / "p.h5", tmp_path / "p.csv")
    tile_event(*args)
    (tmp_path / "p.h5").write_bytes((tmp_path / "p.h5").read_bytes()[:500])
    tile_event(*args)
    with h5py.File(tmp_path / "p.h5") as f:
        assert f["patches"].shape[0] == 4


def test_read_errors_inside_the_block_name_the_file(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["a"] = np.arange(10)
    with pytest.raises(HDF5FileError, match=r"x\.h5: cannot read from HDF5 file .*boom"):
        with open_h5(path) as f:
            raise OSError("Can't read data (boom)")
    with pytest.raises(KeyError):  # other errors pass unchanged
        with open_h5(path) as f:
            f["missing"]
    with pytest.raises(FileNotFoundError, match="nothing.h5: no such HDF5 file"):
        open_h5(tmp_path / "nothing.h5")
