"""Earthdata credentials reach Earthdata/ASF hosts only (issue 17, item 5).

A real HTTP server on 127.0.0.1 records every request's Host and Authorization headers. Host names
are mapped to it by a resolver patched into this process (``socket.getaddrinfo``), so that real
requests through :class:`quakesar.asf.auth.EarthdataSession` go to ``files.asf.alaska.edu``,
``urs.earthdata.nasa.gov`` or ``evil.example.com`` as named, with redirects between them. ASF's
servers speak HTTPS; the local server speaks HTTP, so these sessions are built with
``https_only=False`` except where the HTTPS rule itself is tested. No network is used.
"""

from __future__ import annotations

import base64
import http.server
import socket
import threading

import pytest

from quakesar.asf.auth import EARTHDATA_DOMAINS, EarthdataSession, is_earthdata_host, make_session

TOKEN = "t0ken-for-earthdata-only"
MAPPED = ("files.asf.alaska.edu", "urs.earthdata.nasa.gov", "data.asf.earthdatacloud.nasa.gov", "evil.example.com",
          "asf.alaska.edu.evil.example.com")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # (host name, path, Authorization)
        self.lock = threading.Lock()


def _handler(rec: Recorder, port_box: list[int]):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep the test output clean
            pass

        def do_GET(self):  # noqa: N802 (http.server API)
            host = (self.headers.get("Host") or "").split(":")[0]
            with rec.lock:
                rec.seen.append((host, self.path, self.headers.get("Authorization")))
            if self.path.startswith("/to/"):  # /to/<host>/<rest>: redirect to that host, same server
                target = self.path.split("/", 3)
                location = f"http://{target[2]}:{port_box[0]}/{target[3] if len(target) > 3 else ''}"
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture()
def server(monkeypatch):
    """(port, recorder); MAPPED host names resolve to 127.0.0.1 in this process, no proxy is used."""
    rec, port_box = Recorder(), [0]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec, port_box))
    port_box[0] = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real("127.0.0.1" if host in MAPPED else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    yield port_box[0], rec
    httpd.shutdown()
    httpd.server_close()


def _auth_by_host(rec: Recorder) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for host, _, auth in rec.seen:
        out.setdefault(host, set()).add(auth)
    return out


def test_host_policy_is_asf_search_list_and_rejects_look_alikes():
    # asf_search 14.1 ASFSession: INTERNAL.AUTH_DOMAINS = ['asf.alaska.edu', 'earthdata.nasa.gov'] (+ earthdatacloud)
    assert set(EARTHDATA_DOMAINS) == {"asf.alaska.edu", "earthdata.nasa.gov", "earthdatacloud.nasa.gov"}
    for url in ("https://urs.earthdata.nasa.gov/oauth/authorize", "https://datapool.asf.alaska.edu/SLC/SA/x.zip",
                "https://sentinel1.asf.alaska.edu/SLC/SA/x.zip", "https://cumulus.asf.alaska.edu/login",
                "https://sentinel1-burst.asf.alaska.edu/S1_x/IW2/VV/1.tiff", "https://asf.alaska.edu/",
                "https://data.asf.earthdatacloud.nasa.gov/x", "https://URS.EarthData.NASA.gov./x"):
        assert is_earthdata_host(url), url
    for url in ("https://asf.alaska.edu.evil.example.com/x", "https://evilasf.alaska.edu/x",
                "https://notearthdata.nasa.gov/x", "https://127.0.0.1/x", "https://s3.amazonaws.com/bucket/x",
                "http://sentinel1.asf.alaska.edu/x", "ftp://urs.earthdata.nasa.gov/x", "not a url", ""):
        assert not is_earthdata_host(url), url
    assert is_earthdata_host("http://sentinel1.asf.alaska.edu/x", https_only=False)
    assert is_earthdata_host("http://127.0.0.1:8000/x", extra_hosts=("127.0.0.1",))


def test_token_is_not_sent_to_a_host_a_pairs_file_names(server, monkeypatch, tmp_path):
    """The reported leak: the pairs file's URL pointed at 127.0.0.1 and got the bearer token."""
    port, rec = server
    monkeypatch.setenv("EARTHDATA_TOKEN", TOKEN)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with make_session() as s:
        assert s.get(f"http://127.0.0.1:{port}/granule.zip", timeout=10).status_code == 200
        assert s.get(f"http://evil.example.com:{port}/granule.zip", timeout=10).status_code == 200
        assert s.get(f"http://asf.alaska.edu.evil.example.com:{port}/granule.zip", timeout=10).status_code == 200
        # an Earthdata name over plain HTTP: not with the default session (the token would travel in clear)
        assert s.get(f"http://files.asf.alaska.edu:{port}/granule.zip", timeout=10).status_code == 200
    assert [auth for _, _, auth in rec.seen] == [None, None, None, None]


def test_token_goes_to_earthdata_hosts_on_first_request_and_redirects_only(server, tmp_path, monkeypatch):
    port, rec = server
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    bearer = f"Bearer {TOKEN}"
    with EarthdataSession(token=TOKEN, https_only=False) as s:
        # first request to an ASF host, redirected to the login host and on to the cloud host: token on each hop
        r = s.get(f"http://files.asf.alaska.edu:{port}/to/urs.earthdata.nasa.gov/to/data.asf.earthdatacloud.nasa.gov/g.zip",
                  timeout=10)
        assert r.status_code == 200
        assert [(h, a) for h, _, a in rec.seen] == [("files.asf.alaska.edu", bearer), ("urs.earthdata.nasa.gov", bearer),
                                                    ("data.asf.earthdatacloud.nasa.gov", bearer)]
        rec.seen.clear()
        # an allowed name redirecting to a foreign host (a signed URL elsewhere): nothing there
        assert s.get(f"http://files.asf.alaska.edu:{port}/to/evil.example.com/g.zip", timeout=10).status_code == 200
        # a foreign host redirecting to an allowed name: nothing to the foreign host, the token to ASF
        assert s.get(f"http://evil.example.com:{port}/to/files.asf.alaska.edu/g.zip", timeout=10).status_code == 200
    assert [(h, a) for h, _, a in rec.seen] == [
        ("files.asf.alaska.edu", bearer), ("evil.example.com", None),
        ("evil.example.com", None), ("files.asf.alaska.edu", bearer),
    ]
    assert TOKEN not in repr(s)


def test_netrc_credentials_only_for_earthdata_hosts(server, tmp_path, monkeypatch):
    """requests alone would send a netrc entry (and a netrc `default` entry) to any host it matches."""
    port, rec = server
    netrc = tmp_path / "netrc"
    netrc.write_text("machine urs.earthdata.nasa.gov login alice password pw\n"
                     "machine evil.example.com login alice password pw\n"
                     "default login alice password pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
    basic = "Basic " + base64.b64encode(b"alice:pw").decode()
    with EarthdataSession(token=None, https_only=False) as s:
        for url in (f"http://evil.example.com:{port}/g.zip", f"http://127.0.0.1:{port}/g.zip",
                    f"http://files.asf.alaska.edu:{port}/to/urs.earthdata.nasa.gov/to/evil.example.com/g.zip"):
            assert s.get(url, timeout=10).status_code == 200
    assert [(h, a) for h, _, a in rec.seen] == [
        ("evil.example.com", None), ("127.0.0.1", None),
        ("files.asf.alaska.edu", basic),  # the netrc `default` entry, on an ASF host
        ("urs.earthdata.nasa.gov", basic), ("evil.example.com", None),
    ]


def test_an_explicit_authorization_header_is_the_callers_choice(server, monkeypatch, tmp_path):
    port, rec = server
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with EarthdataSession(token=TOKEN) as s:
        s.get(f"http://127.0.0.1:{port}/g.zip", headers={"Authorization": "Bearer other"}, timeout=10)
    assert rec.seen == [("127.0.0.1", "/g.zip", "Bearer other")]
