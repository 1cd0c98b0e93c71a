"""Catalog stage: reading ComCat CSV/GeoJSON/FDSN, malformed input, filters, deduplication, records."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from quakesar.catalog import CatalogError, read_catalog, select_events
from quakesar.catalog.magnitudes import to_mw
from quakesar.catalog.read import fdsn_query_url
from quakesar.catalog.records import write_catalog_outputs
from quakesar.catalog.stage import load_selection
from quakesar.config import SCHEMA_PATH, fill_defaults, load_schema

FIXTURE = Path(__file__).parent / "fixtures" / "catalog" / "comcat_small.csv"
BUNDLED = Path(__file__).resolve().parents[1] / "config" / "catalog" / "usgs-comcat-m5-world-2013-2023.csv"
HEADER = FIXTURE.read_text().splitlines()[0]


def catalog_cfg(**kw) -> dict:
    cfg = fill_defaults({"catalog": {"path": str(FIXTURE), **kw}}, load_schema(SCHEMA_PATH))["catalog"]
    return cfg


def test_bundled_catalog_reads_and_filters_non_earthquakes():
    events = read_catalog(BUNDLED)
    assert len(events) == 18334
    sel = select_events(events, catalog_cfg(path=str(BUNDLED), min_magnitude=5.0, max_depth_km=None, start=None))
    types = {e.type for e in sel.events}
    assert types == {"earthquake"}
    assert sel.dropped["event type volcanic eruption"] == 55
    assert sel.dropped["event type nuclear explosion"] == 4


def test_known_event_values():
    ev = {e.id: e for e in read_catalog(FIXTURE)}["us7000df40"]
    assert (ev.latitude, ev.longitude, ev.depth_km, ev.magnitude, ev.magnitude_type) == (39.7546, 22.1757, 8.0, 6.3, "mww")
    assert ev.time.isoformat().startswith("2021-03-03T10:16:09")


def test_filters_default_sentinel1_era_depth_and_type():
    sel = select_events(read_catalog(FIXTURE), catalog_cfg(min_magnitude=5.0, max_depth_km=30))
    ids = {e.id for e in sel.events}
    assert {"us7000df40", "us7000hj3u", "us2000bmcg", "nn00725272", "ci38457511"} <= ids
    assert all(e.time.year >= 2014 for e in sel.events)
    assert all(e.depth_km <= 30 for e in sel.events)
    early = [e for e in read_catalog(FIXTURE) if e.time.year < 2014 or (e.time.year == 2014 and e.time.month < 10)]
    assert early and not ids & {e.id for e in early}


def test_magnitude_types_region_bbox_and_wkt_limit():
    events = read_catalog(FIXTURE)
    sel = select_events(events, catalog_cfg(min_magnitude=5.0, max_depth_km=None, magnitude_types=["MWW"]))
    assert all(e.magnitude_type == "mww" for e in sel.events)
    # Greece only (bbox) and Nevada/California (WKT polygon, lon lat order)
    greece = select_events(events, catalog_cfg(min_magnitude=5.0, region=[19.0, 34.0, 30.0, 42.0]))
    assert [e.id for e in greece.events] == ["us7000df40"]
    west_us = select_events(events, catalog_cfg(min_magnitude=5.0, region="POLYGON((-125 32, -114 32, -114 42, -125 42, -125 32))"))
    assert {e.id for e in west_us.events} == {"ci38457511", "nn00725272"}
    top2 = select_events(events, catalog_cfg(min_magnitude=5.0, limit=2))
    assert [e.magnitude for e in sorted(top2.events, key=lambda e: -e.magnitude)] == [7.3, 7.1]


def test_bbox_crossing_antimeridian():
    events = read_catalog(BUNDLED)
    sel = select_events(events, catalog_cfg(path=str(BUNDLED), min_magnitude=5.0, region=[170.0, -60.0, -170.0, 60.0]))
    assert sel.events and all(e.longitude >= 170.0 or e.longitude <= -170.0 for e in sel.events)


def test_explicit_ids_and_unknown_id():
    sel = select_events(read_catalog(FIXTURE), catalog_cfg(event_ids=["nn00725272", "us7000df40"], min_magnitude=9))
    assert [e.id for e in sel.events] == ["nn00725272", "us7000df40"]  # sorted by time
    with pytest.raises(CatalogError, match="nope123"):
        select_events(read_catalog(FIXTURE), catalog_cfg(event_ids=["nope123"]))


def test_empty_selection_is_a_clear_error():
    with pytest.raises(CatalogError, match="selection is empty.*min_magnitude"):
        select_events(read_catalog(FIXTURE), catalog_cfg(min_magnitude=9.5))


def _write(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "cat.csv"
    p.write_text("\n".join([HEADER, *lines]) + "\n")
    return p


GOOD = FIXTURE.read_text().splitlines()[5]


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda f: f.__setitem__(4, "abc"), r"line 2, column 'mag': 'abc' is not a number"),
        (lambda f: f.__setitem__(1, "95.0"), r"line 2, column 'latitude': 95.0 is out of range"),
        (lambda f: f.__setitem__(0, "yesterday"), r"line 2, column 'time': 'yesterday' is not an ISO 8601 time"),
        (lambda f: f.__setitem__(11, "bad id!"), r"line 2, column 'id'"),
    ],
)
def test_malformed_values_name_file_line_column(tmp_path, mutate, pattern):
    import csv
    import io

    fields = next(csv.reader(io.StringIO(GOOD)))
    mutate(fields)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    path = _write(tmp_path, [buf.getvalue()])
    with pytest.raises(CatalogError, match=pattern) as err:
        read_catalog(path)
    assert str(path) in str(err.value)


def test_missing_column(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("time,latitude,longitude,depth,magType,id\n")
    with pytest.raises(CatalogError, match=r"line 1: missing column\(s\) mag"):
        read_catalog(p)


def test_duplicate_ids_identical_collapse_conflicting_fail(tmp_path):
    assert len(read_catalog(_write(tmp_path, [GOOD, GOOD]))) == 1
    fields = GOOD.split(",")
    fields[3] = str(float(fields[3]) + 5.0)  # same id, another depth
    conflicting = ",".join(fields)
    with pytest.raises(CatalogError, match=r"line 2 and line 3 with conflicting values"):
        read_catalog(_write(tmp_path, [GOOD, conflicting]))


def test_near_identical_rows_under_two_ids_are_deduplicated(tmp_path):
    import csv
    import io

    a = next(csv.reader(io.StringIO(GOOD)))
    b = list(a)
    b[11] = "xx00000001"
    b[5] = "mb"  # same quake reported by another network as mb
    b[1] = str(float(a[1]) + 0.02)
    rows = []
    for f in (a, b):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(f)
        rows.append(buf.getvalue())
    events = read_catalog(_write(tmp_path, rows))
    sel = select_events(events, catalog_cfg(path=str(tmp_path / "cat.csv"), min_magnitude=0, max_depth_km=None, start=None))
    assert len(sel.events) == 1
    kept = sel.events[0]
    assert kept.id == a[11] if a[5].startswith("mw") else True
    assert sel.duplicates and sel.duplicates[0][0] in {a[11], "xx00000001"}


def test_geojson_equals_csv(tmp_path):
    events = read_catalog(FIXTURE)
    feats = [{"type": "Feature", "id": e.id,
              "properties": {"mag": e.magnitude, "magType": e.magnitude_type, "place": e.place,
                             "time": int(round(e.time.timestamp() * 1000)), "type": e.type, "updated": 0},
              "geometry": {"type": "Point", "coordinates": [e.longitude, e.latitude, e.depth_km]}} for e in events]
    p = tmp_path / "cat.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    gj = read_catalog(p)
    assert [(e.id, e.latitude, e.magnitude, e.time) for e in gj] == [(e.id, e.latitude, e.magnitude, e.time) for e in events]
    feats[1]["geometry"]["coordinates"] = [1.0]
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    with pytest.raises(CatalogError, match="feature 1, column 'geometry.coordinates'"):
        read_catalog(p)


def test_magnitude_conversion():
    assert to_mw(6.3, "mww") == 6.3
    assert to_mw(5.5, "mb") == pytest.approx(0.85 * 5.5 + 1.03, abs=0.01)  # Scordilis 2006
    assert to_mw(5.0, "ms") == pytest.approx(0.67 * 5.0 + 2.07, abs=0.01)
    assert to_mw(7.0, "ms_20") == pytest.approx(0.99 * 7.0 + 0.08, abs=0.01)


class _FDSNHandler(http.server.BaseHTTPRequestHandler):
    """Serves the fixture as ComCat's FDSN CSV answer and records the query (local server, no internet)."""

    queries: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).queries.append(self.path)
        body = FIXTURE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # silence
        pass


def test_fdsn_query_against_local_server(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FDSNHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/fdsnws/event/1"
        cache = tmp_path / "fdsn.csv"
        cfg = catalog_cfg(path=str(cache), format="fdsn", fdsn_url=url, min_magnitude=6.0, region=[19, 34, 30, 42])
        sel = load_selection(cfg)
        assert cache.exists() and "us7000df40" in {e.id for e in sel.events}
        q = _FDSNHandler.queries[-1]
        assert q.startswith("/fdsnws/event/1/query?") and "minmagnitude=6.0" in q and "eventtype=earthquake" in q
        assert "minlongitude=19" in q and "format=csv" in q
        n = len(_FDSNHandler.queries)
        load_selection(cfg)  # cached: no second query
        assert len(_FDSNHandler.queries) == n
    finally:
        server.shutdown()
    assert "starttime=2014-10-03" in fdsn_query_url(url, cfg)


def test_records_rewritten_only_when_changed(tmp_path):
    sel = select_events(read_catalog(FIXTURE), catalog_cfg(min_magnitude=6.0))
    out = tmp_path / "catalog"
    stats = write_catalog_outputs(sel.events, out / "events.csv", out / "events")
    assert stats["records_written"] == len(sel.events)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "events").iterdir()}
    stats = write_catalog_outputs(sel.events, out / "events.csv", out / "events")
    assert stats["records_written"] == 0
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in (out / "events").iterdir()}
    rec = json.loads((out / "events" / "us7000df40.json").read_text())
    assert rec["mw"] == 6.3 and rec["time"].endswith("Z") and "source_line" not in rec


def test_start_null_means_no_lower_bound_and_absent_means_sentinel1_era():
    events = read_catalog(FIXTURE)
    cfg = catalog_cfg(min_magnitude=5.0, max_depth_km=None, start=None)
    assert any(e.time.year == 2013 for e in select_events(events, cfg).events)
    del cfg["start"]
    assert all(e.time.year >= 2014 for e in select_events(events, cfg).events)


def test_bundled_catalog_has_near_duplicate_rows_that_are_merged():
    sel = select_events(read_catalog(BUNDLED), catalog_cfg(path=str(BUNDLED), min_magnitude=0.0, max_depth_km=None, start=None))
    assert len(sel.events) == 18275 - len(sel.duplicates) and sel.duplicates
