"""Fixes of the real ASF path found by an audit against asf_search's source (issue 14). Each test
failed before its fix. ASF's servers cannot be reached: downloads run against a real HTTP server
on 127.0.0.1 that answers the way ASF's burst extractor and Earthdata do (HTTP 202 while a burst
is extracted, the ``asf-urs`` cookie set by ASF's login redirect, an HTML login page with status
200); the burst search uses ASF's recorded burst records (tests/fixtures/asf/search).

* the burst catalogue query pads the scene's time span: only bursts of the chosen SLC are kept;
* HTTP 202 is polled (asf_search: every second, up to 90 s) instead of failing;
* a burst download first obtains the ``asf-urs`` cookie (a token alone does not set it);
* an HTML page answered with 200 is the credential error, not a size mismatch after retries;
* version floors asf_search >= 8.1.3 and sentineleof >= 0.11 in pyproject.toml, envs/asf.yaml and
  the run-time check agree; the run-time check refuses older versions.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import http.server
import threading
import tomllib
from pathlib import Path

import pytest
import yaml

from quakesar.asf import auth, download as dl, versions
from quakesar.asf import search as asf_search_mod
from quakesar.asf.pairs import Pair
from quakesar.asf.products import parse_time, scene_from_properties

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "asf" / "search"
PAYLOAD = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(3000))
MD5 = hashlib.md5(PAYLOAD).hexdigest()
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Earthdata Login</title></head><body><form id='login'></form></body></html>"


# --------------------------------------------------------------------------- burst search


def _burst_records() -> list[dict]:
    recs = yaml.load((FIX / "S1_BURST_stack_174_372326_IW3_subset.yml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return [r for r in recs if r["properties"]["sceneName"].startswith("S1_372326_IW3_20180628")]


def _scene(props: dict, geometry: dict, umm: dict | None = None):
    return scene_from_properties(props, geometry, umm=umm)


def test_burst_records_name_their_source_slc() -> None:
    rec = _burst_records()[0]
    b = _scene(rec["properties"], rec["geometry"], rec.get("umm"))
    assert b.source_scene == "S1B_IW_SLC__1SDV_20180628T151540_20180628T151607_011575_015476_4673"
    assert b.record()["source_scene"] == b.source_scene
    props = dict(rec["properties"], url="https://example.org/x.tiff")  # no extractor URL: UMM InputGranules
    assert _scene(props, rec["geometry"], rec["umm"]).source_scene == b.source_scene


def test_burst_lookup_keeps_only_bursts_of_the_chosen_slc(monkeypatch) -> None:
    """The query pads the SLC's span by 5 s; a burst of the next frame (same orbit) matched and was
    listed in the pairs file, and SNAP's burst selection later refused it."""
    rec = _burst_records()[0]
    own = rec["properties"]
    slc_name = "S1B_IW_SLC__1SDV_20180628T151540_20180628T151607_011575_015476_4673"
    nxt_name = "S1B_IW_SLC__1SDV_20180628T151605_20180628T151632_011575_015476_9ABC"
    # the next frame's first burst: same pass and orbit, starts 2.5 s after this SLC's stop
    nxt = copy.deepcopy(own)
    nxt.update(sceneName="S1_372327_IW3_20180628T151609_VV_9ABC-BURST", startTime="2018-06-28T15:16:09.500000Z",
               stopTime="2018-06-28T15:16:12.600000Z",
               url=f"https://sentinel1-burst.asf.alaska.edu/{nxt_name}/IW3/VV/0.tiff")
    nxt["burst"] = dict(own["burst"], fullBurstID="174_372327_IW3", relativeBurstID=372327)
    slc_props = {"sceneName": slc_name, "startTime": "2018-06-28T15:15:40Z", "stopTime": "2018-06-28T15:16:07Z",
                 "pathNumber": 174, "flightDirection": "DESCENDING", "polarization": "VV+VH", "platform": "Sentinel-1B",
                 "processingLevel": "SLC", "url": f"https://datapool.asf.alaska.edu/SLC/SB/{slc_name}.zip",
                 "orbit": own["orbit"]}
    ref = _scene(slc_props, rec["geometry"])
    sec_props = dict(slc_props, sceneName=slc_name.replace("20180628", "20180710"),
                     startTime="2018-07-10T15:15:41Z", stopTime="2018-07-10T15:16:08Z")
    sec = _scene(sec_props, rec["geometry"])
    sec_burst = copy.deepcopy(own)
    sec_burst.update(startTime="2018-07-10T15:15:57.3Z", stopTime="2018-07-10T15:16:00.4Z",
                     url=f"https://sentinel1-burst.asf.alaska.edu/{sec.name}/IW3/VV/5.tiff")
    sec_next = copy.deepcopy(nxt)
    sec_next.update(startTime="2018-07-10T15:16:10.5Z", stopTime="2018-07-10T15:16:13.6Z",
                    url=f"https://sentinel1-burst.asf.alaska.edu/{nxt_name.replace('20180628', '20180710')}/IW3/VV/0.tiff")
    products = {1: [_scene(own, rec["geometry"]), _scene(nxt, rec["geometry"])],
                2: [_scene(sec_burst, rec["geometry"]), _scene(sec_next, rec["geometry"])]}
    calls: list[dict] = []

    def search(**q):
        calls.append(q)
        return products[len(calls)]

    lat, lon = 57.04282649297329, -135.917406937361
    monkeypatch.setattr(asf_search_mod, "_to_scenes", lambda ps, c: list(ps))  # the products are Scenes here
    pair = Pair(ref, sec, 12.0, -36.0, 1.0)
    cov = asf_search_mod._burst_lookup(pair, lat, lon, {"subswath_radius_km": 400.0}, search, "evtest")
    assert parse_time(calls[0]["end"]) > parse_time(nxt["startTime"]) - dt.timedelta(seconds=5)  # padded query
    assert cov["full_burst_ids"] == ["174_372326_IW3"]
    assert [b.name for b in cov["reference_bursts"]] == [own["sceneName"]]


def test_bursts_without_source_fall_back_to_time_midpoint() -> None:
    rec = _burst_records()[0]
    own = dict(rec["properties"], url="https://example.org/a.tiff")
    b = _scene(own, rec["geometry"])
    slc = _scene({"sceneName": "S1B_IW_SLC__X", "startTime": "2018-06-28T15:15:40Z", "stopTime": "2018-06-28T15:16:07Z",
                  "pathNumber": 174, "flightDirection": "DESCENDING", "url": "https://x/y.zip"}, rec["geometry"])
    assert asf_search_mod.bursts_of_scene([b], slc) == ([b], [])
    late = _scene(dict(own, startTime="2018-06-28T15:16:06Z", stopTime="2018-06-28T15:16:09.2Z"), rec["geometry"])
    assert asf_search_mod.bursts_of_scene([late], slc) == ([], [late])


# --------------------------------------------------------------------------- downloads


class _State:
    def __init__(self) -> None:
        self.log: list[tuple[str, str | None]] = []  # (path, cookie header)
        self.lock = threading.Lock()


def _handler(state: _State):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            cookie = self.headers.get("Cookie")
            with state.lock:
                state.log.append((self.path, cookie))
                n = sum(1 for p, _ in state.log if p == self.path)
            if self.path.startswith("/oauth/authorize"):  # Earthdata: redirect to ASF's login with a code
                return self._send(302, b"", {"Location": "/login?code=abc"})
            if self.path.startswith("/login"):  # ASF's login endpoint sets the cookie
                return self._send(200, b"ok", {"Set-Cookie": "asf-urs=granted; Path=/", "Content-Type": "text/plain"})
            if self.path.startswith("/burst"):
                if "asf-urs=granted" not in (cookie or ""):
                    return self._send(401, b"unauthorized")
                if n <= 2 or self.path.startswith("/burst-forever"):
                    return self._send(202, b"", {"Content-Type": "text/plain"})
                return self._send(200, PAYLOAD, {"Content-Type": "image/tiff"})
            if self.path.startswith("/edl-page"):  # Earthdata's HTML login form, status 200
                return self._send(200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            return self._send(200, PAYLOAD, {"Content-Type": "application/zip"})

    return Handler


@pytest.fixture()
def server():
    state = _State()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def _session(base: str, token: str | None = "tok") -> auth.EarthdataSession:
    s = auth.EarthdataSession(token=token, extra_trusted_hosts=("127.0.0.1",))
    s.asf_authorize_url = f"{base}/oauth/authorize?splash=false&client_id={auth.ASF_EDL_CLIENT_ID}"  # type: ignore[attr-defined]
    return s


def test_burst_download_gets_the_cookie_and_waits_through_202(server, tmp_path) -> None:
    base, state = server
    out = dl.fetch(f"{base}/burst/S1_372326_IW3.tiff", tmp_path / "b.tiff", expected_bytes=len(PAYLOAD),
                   expected_md5=MD5, session=_session(base), progress=False, asf_cookie=True,
                   processing_timeout_s=10, processing_poll_s=0.05)
    assert out.read_bytes() == PAYLOAD
    paths = [p.split("?")[0] for p, _ in state.log]
    assert paths[:2] == ["/oauth/authorize", "/login"]  # the cookie first, once
    burst_calls = [c for p, c in state.log if p.startswith("/burst")]
    assert len(burst_calls) == 3 and all("asf-urs=granted" in (c or "") for c in burst_calls)  # 202, 202, 200


def test_burst_still_extracting_after_the_timeout_is_a_clear_error(server, tmp_path) -> None:
    base, _ = server
    with pytest.raises(dl.ServerError, match="HTTP 202"):
        dl.fetch(f"{base}/burst-forever/x.tiff", tmp_path / "b.tiff", session=_session(base), progress=False,
                 asf_cookie=True, retries=0, processing_timeout_s=0.3, processing_poll_s=0.05)


def test_cookie_missing_after_login_names_netrc(server, tmp_path, monkeypatch) -> None:
    base, _ = server
    monkeypatch.setenv("EARTHDATA_TOKEN", "tok")
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    s = _session(base)
    s.asf_authorize_url = f"{base}/plain"  # type: ignore[attr-defined]  # answers 200 without a cookie
    with pytest.raises(dl.AuthenticationError, match="token alone does not give ASF's asf-urs cookie") as exc:
        dl.fetch(f"{base}/burst/x.tiff", tmp_path / "b.tiff", session=s, progress=False, asf_cookie=True)
    assert "tok" not in str(exc.value).replace("token", "")


def test_burst_urls_are_recognised() -> None:
    assert auth.is_burst_url("https://sentinel1-burst.asf.alaska.edu/S1A_IW_SLC__X/IW2/VV/3.tiff")
    assert not auth.is_burst_url("https://datapool.asf.alaska.edu/SLC/SA/S1A_IW_SLC__X.zip")
    assert auth.asf_authorize_url().startswith("https://urs.earthdata.nasa.gov/oauth/authorize?")
    assert "redirect_uri=https://cumulus.asf.alaska.edu/login" in auth.asf_authorize_url()


def test_html_login_page_with_200_is_the_credential_error(server, tmp_path) -> None:
    """Before the fix the page was saved as the granule and failed the size check after all retries."""
    base, state = server
    with pytest.raises(dl.AuthenticationError, match="HTML page.*Earthdata"):
        dl.fetch(f"{base}/edl-page/S1A_X.zip", tmp_path / "g.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5,
                 session=_session(base), retries=3, backoff_s=0.01, progress=False)
    assert len([p for p, _ in state.log if p.startswith("/edl-page")]) == 1  # no retries
    assert not (tmp_path / "g.zip").exists() and not (tmp_path / "g.zip.partial").exists()


# --------------------------------------------------------------------------- version floors


def _floor(text: str, name: str) -> str:
    for token in text.replace('"', " ").replace(",", " ").split():
        if token.startswith(name + ">="):
            return token.split(">=")[1]
    raise AssertionError(f"{name} has no lower bound")


def test_version_floors_agree_everywhere() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = " ".join(project["dependencies"] + sum(project["optional-dependencies"].values(), []))
    assert _floor(deps, "asf-search") == versions.MIN_ASF_SEARCH == "8.1.3"
    assert _floor(deps, "sentineleof") == versions.MIN_SENTINELEOF == "0.11"
    env = yaml.safe_load((ROOT / "envs" / "asf.yaml").read_text())["dependencies"]
    pins = {d.split()[0]: d.split()[1] for d in env if isinstance(d, str) and " " in d}
    assert pins["asf_search"] == ">=8.1.3" and pins["sentineleof"] == ">=0.11"


def test_runtime_check_refuses_old_versions(monkeypatch) -> None:
    monkeypatch.setattr(versions.metadata, "version", lambda name: {"asf-search": "8.1.2", "sentineleof": "0.10.1"}[name])
    with pytest.raises(versions.VersionError, match="asf-search 8.1.2.*8.1.3.*Sentinel-1C"):
        versions.check_version("asf-search")
    with pytest.raises(versions.VersionError, match="sentineleof 0.10.1.*0.11"):
        versions.check_version("sentineleof")
    monkeypatch.setattr(versions.metadata, "version", lambda name: "14.1.0")
    assert versions.check_version("asf-search") == "14.1.0"


def test_s1d_is_searchable_with_the_installed_asf_search() -> None:
    """The decision for S1D: searched like the other units when asf_search knows it (it does here)."""
    assert versions.s1d_searchable()
    from quakesar.asf.orbits import mission_of

    assert mission_of({"scene": "S1D_IW_SLC__1SDV_20260101T000000_x"}) == "S1D"
