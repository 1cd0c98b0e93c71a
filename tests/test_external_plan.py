"""Start-up validation of ``source: external`` (quakesar.external.plan and the config schema):
products found by the directory convention and by explicit entries, and a clear error for each
way a config can be wrong (event not in the selection, missing path, unknown layout, incomplete
product, duplicate ids, a product that does not bracket the event)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from external_builders import build_hyp3, build_licsar, write_geotiff
from quakesar.config import ConfigError, load_config
from quakesar.external.layouts import find_products
from quakesar.external.plan import ExternalConfigError, plan_external, product_files
from quakesar.external.readers import read_product
from quakesar.external.stage import NotCoseismicError, check_coseismic

ROOT = Path(__file__).resolve().parents[1]
CENTRE = (39.7546, 22.1757)
T1, T2 = dt.datetime(2021, 2, 24, 16, 27, 30), dt.datetime(2021, 3, 8, 16, 27, 31)


def _products(tmp_path: Path) -> Path:
    ev = tmp_path / "data" / "external" / "us7000df40"
    build_licsar(ev, "131A_05114_131313", "20210224_20210308", CENTRE, -12.4, rows=12, cols=12)
    build_hyp3(ev, "gamma", CENTRE, T1, T2, -12.3, rows=10, cols=10, zipped=True)
    return ev


def test_directory_convention_and_explicit_entries(tmp_path: Path) -> None:
    ev = _products(tmp_path)
    other = tmp_path / "elsewhere"
    _, name = build_hyp3(other, "isce_burst", CENTRE, T1, T2, -12.3, rows=10, cols=10)
    plan = plan_external({"dir": "data/external", "events": {"nn00725272": [f"elsewhere/{name}"]}},
                         ["us7000df40", "nn00725272", "us7000hj3u"], base=tmp_path)
    assert sorted(plan) == ["nn00725272", "us7000df40"]  # us7000hj3u has no products: absent, not an error
    assert sorted(s.layout for s in plan["us7000df40"]) == ["hyp3_gamma", "licsar"]
    assert [s.product_id for s in plan["nn00725272"]] == [name]
    zipped = next(s for s in plan["us7000df40"] if s.layout == "hyp3_gamma")
    assert product_files(zipped) == [str(next(ev.glob("*.zip")))]  # the job depends on the zip itself
    # an explicit entry wins over the directory for its event, and can rename a product
    plan2 = plan_external({"dir": "data/external", "events": {"us7000df40": [{"path": f"elsewhere/{name}", "name": "b1"}]}},
                          ["us7000df40"], base=tmp_path)
    assert [s.product_id for s in plan2["us7000df40"]] == ["b1"]


@pytest.mark.parametrize("section,match", [
    ({"events": {"us9999zzzz": ["x"]}}, r"external.events: us9999zzzz is not in the catalog selection of this config \(1 events"),
    ({"events": {"us7000df40": ["nowhere/product"]}}, r"external.events.us7000df40\[0\]: .*nowhere/product does not exist"),
    ({"events": {"us7000df40": [{"path": "data/external/us7000df40", "layout": "licsar"}]}},
     r"layout 'licsar' requested but S1AA_.* is hyp3_gamma"),
    ({"events": {"us7000df40": [{"paht": "x"}]}}, r"unknown keys \['paht'\]"),
    ({"events": {"us7000df40": []}}, r"expected a non-empty list"),
])
def test_config_errors_name_the_key(tmp_path: Path, section: dict, match: str) -> None:
    _products(tmp_path)
    with pytest.raises(ExternalConfigError, match=match):
        plan_external(section, ["us7000df40"], base=tmp_path)


def test_unknown_layout_and_incomplete_products(tmp_path: Path) -> None:
    odd = tmp_path / "data" / "external" / "us7000df40"
    write_geotiff(odd / "my_interferogram.tif", __import__("numpy").zeros((4, 4)), (22.0, 0.01, 0, 40.0, 0, -0.01),
                  "EPSG:4326")
    with pytest.raises(ExternalConfigError, match=r"external.dir .*us7000df40: .*no known product layout.*layout: geotiff"):
        plan_external({}, ["us7000df40"], base=tmp_path)
    lic = tmp_path / "lic"
    build_licsar(lic, "131A_05114_131313", "20210224_20210308", CENTRE, -12.4, rows=8, cols=8)
    (lic / "131A_05114_131313" / "metadata" / "131A_05114_131313.geo.U.tif").unlink()
    with pytest.raises(ExternalConfigError, match=r"LiCSAR frame 131A_05114_131313: look-vector files missing: \['up'\]"):
        plan_external({"events": {"us7000df40": ["lic"]}}, ["us7000df40"], base=tmp_path)


def test_duplicate_product_ids_are_refused(tmp_path: Path) -> None:
    _, name = build_hyp3(tmp_path / "a", "gamma", CENTRE, T1, T2, -12.3, rows=6, cols=6)
    build_hyp3(tmp_path / "b", "gamma", CENTRE, T1, T2, -12.3, rows=6, cols=6)
    with pytest.raises(ExternalConfigError, match=f"two products with the id '{name}'"):
        plan_external({"events": {"us7000df40": [f"a/{name}", f"b/{name}"]}}, ["us7000df40"], base=tmp_path)


def test_product_must_bracket_the_event(tmp_path: Path) -> None:
    build_hyp3(tmp_path, "gamma", CENTRE, T1, T2, -12.3, rows=6, cols=6)
    p = read_product(find_products(tmp_path)[0])
    check_coseismic(p, {"id": "us7000df40", "time": "2021-03-03T10:16:09Z"})
    with pytest.raises(NotCoseismicError, match="not between the acquisitions.*require_coseismic"):
        check_coseismic(p, {"id": "late", "time": "2021-04-01T00:00:00Z"})
    # LiCSAR without center_time: compared by date, the event on the secondary date counts as inside
    build_licsar(tmp_path / "l", "131A_05114_131313", "20210224_20210303", CENTRE, -12.4, rows=8, cols=8,
                 center_time=None)
    q = read_product(find_products(tmp_path / "l")[0])
    assert q.reference_time == "2021-02-24T00:00:00Z"
    check_coseismic(q, {"id": "us7000df40", "time": "2021-03-03T10:16:09Z"})


def test_schema_accepts_the_external_section_and_refuses_unknown_keys() -> None:
    cfg = load_config(ROOT / "config" / "config.yaml", {"source": "external", "external": {"events": {"us7000df40": ["p"]}}})
    assert cfg["external"]["grid"]["tie_step"] == 16 and cfg["external"]["require_coseismic"] is True
    with pytest.raises(ConfigError, match="external"):
        load_config(ROOT / "config" / "config.yaml", {"external": {"folder": "x"}})
    with pytest.raises(ConfigError, match="pixel_spacing"):
        load_config(ROOT / "config" / "config.yaml", {"external": {"grid": {"pixel_spacing": {"range_m": 100}}}})


def test_planned_outputs_name_the_files_of_each_product(tmp_path: Path) -> None:
    from quakesar.external.stage import planned_outputs

    _products(tmp_path)
    cfg = {"results": "res", "external": {"dir": str(tmp_path / "data" / "external")}}
    out = planned_outputs(cfg, ["us7000df40", "us7000hj3u"])
    assert sorted(out) == ["us7000df40"]
    files = {p["layout"]: p for p in out["us7000df40"]}
    lic = files["licsar"]
    assert lic["h5"] == "res/interferograms/us7000df40/ext_131A_05114_131313_20210224_20210308.h5"
    assert lic["geo_h5"].endswith(".geo.h5") and lic["png"].endswith(".png")
