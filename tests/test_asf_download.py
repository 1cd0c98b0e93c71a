"""Downloads against a real HTTP server on 127.0.0.1 (http.server in a thread), no internet.

ASF's servers cannot be reached from tests; everything up to the socket is real: range requests,
status codes, broken connections, bearer/netrc authentication, file locks between concurrent
downloads of the same granule, verification against size and MD5 as ASF publishes them.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time

import pytest

from quakesar.asf import download as dl
from quakesar.asf.auth import EarthdataSession, make_session

PAYLOAD = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(12_000))  # 384 000 bytes
MD5 = hashlib.md5(PAYLOAD).hexdigest()
TOKEN = "s3cr3t-token-value"


class State:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None, str | None]] = []  # (path, Range, Authorization)
        self.failures: dict[str, int] = {}
        self.lock = threading.Lock()


def make_handler(state: State):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output clean
            pass

        def _send(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server API)
            rng, auth = self.headers.get("Range"), self.headers.get("Authorization")
            with state.lock:
                state.requests.append((self.path, rng, auth))
                n = sum(1 for p, _, _ in state.requests if p == self.path)
            path = self.path
            if path.startswith("/missing"):
                return self._send(404, b"not found")
            if path.startswith("/auth") and auth != f"Bearer {TOKEN}" and not (auth or "").startswith("Basic "):
                return self._send(401, b"unauthorized")
            if path.startswith("/flaky") and n <= 2:
                return self._send(503, b"busy", {"Retry-After": "0"})
            if path.startswith("/redirect"):
                return self._send(302, b"", {"Location": "/auth/target"})
            start = 0
            if rng and not path.startswith("/norange"):
                start = int(rng.split("=")[1].split("-")[0])
            body = PAYLOAD[start:]
            if path.startswith("/corrupt"):
                body = body[:-1] + b"X"
            code = 206 if start else 200
            headers = {"Content-Type": "application/zip", "Content-Length": str(len(body))}
            if start:
                headers["Content-Range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if path.startswith("/cut") and n == 1:  # first try: half the bytes, then the connection drops
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if path.startswith("/slow"):
                for i in range(0, len(body), 64_000):
                    self.wfile.write(body[i:i + 64_000])
                    time.sleep(0.05)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture()
def server():
    state = State()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def session() -> EarthdataSession:
    return EarthdataSession(token=TOKEN, extra_trusted_hosts=("127.0.0.1",))


def test_complete_download_verified_and_atomic(server, tmp_path):
    base, state = server
    out = dl.fetch(f"{base}/ok/G1.zip", tmp_path / "G1.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5, session=session(), progress=False)
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "G1.zip.partial").exists()
    assert state.requests[0][2] == f"Bearer {TOKEN}"
    # a second call finds the verified file and does not download again
    dl.fetch(f"{base}/ok/G1.zip", out, expected_bytes=len(PAYLOAD), expected_md5=MD5, session=session(), progress=False)
    assert len(state.requests) == 1


def test_resume_after_interrupted_transfer(server, tmp_path):
    base, state = server
    out = dl.fetch(f"{base}/cut/G2.zip", tmp_path / "G2.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5,
                   session=session(), retries=3, backoff_s=0.01, progress=False)
    assert out.read_bytes() == PAYLOAD
    ranges = [r for p, r, _ in state.requests if p == "/cut/G2.zip"]
    assert ranges[0] is None and len(ranges) == 2
    resumed_at = int(ranges[1].split("=")[1].rstrip("-"))  # resumed from what had arrived (64 KiB blocks)
    assert len(PAYLOAD) // 2 - 65536 < resumed_at <= len(PAYLOAD) // 2


def test_resume_of_a_partial_file_left_by_an_earlier_run(server, tmp_path):
    base, state = server
    (tmp_path / "G3.zip.partial").write_bytes(PAYLOAD[:100_000])
    dl.fetch(f"{base}/ok/G3.zip", tmp_path / "G3.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5, session=session(), progress=False)
    assert state.requests[0][1] == "bytes=100000-"
    assert (tmp_path / "G3.zip").read_bytes() == PAYLOAD
    # a server that ignores Range (200) makes us restart rather than append garbage
    (tmp_path / "G4.zip.partial").write_bytes(PAYLOAD[:5000])
    dl.fetch(f"{base}/norange/G4.zip", tmp_path / "G4.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5, session=session(), progress=False)
    assert (tmp_path / "G4.zip").read_bytes() == PAYLOAD


def test_wrong_checksum_is_discarded(server, tmp_path):
    base, state = server
    with pytest.raises(dl.ChecksumError, match="MD5 .* expected " + MD5):
        dl.fetch(f"{base}/corrupt/G5.zip", tmp_path / "G5.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5,
                 session=session(), retries=1, backoff_s=0.0, progress=False)
    assert not (tmp_path / "G5.zip").exists() and not (tmp_path / "G5.zip.partial").exists()
    assert len(state.requests) == 2  # retried once from zero
    with pytest.raises(dl.ChecksumError, match="size"):
        dl.fetch(f"{base}/ok/G6.zip", tmp_path / "G6.zip", expected_bytes=len(PAYLOAD) - 10, session=session(), retries=0, progress=False)


def test_401_names_credentials_and_hides_the_token(server, tmp_path, monkeypatch):
    base, _ = server
    monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    bad = EarthdataSession(token="wrong-token-value", extra_trusted_hosts=("127.0.0.1",))
    with pytest.raises(dl.AuthenticationError) as err:
        dl.fetch(f"{base}/auth/G7.zip", tmp_path / "G7.zip", session=bad, progress=False)
    msg = str(err.value)
    assert "HTTP 401" in msg and "EARTHDATA_TOKEN" in msg and ".netrc" in msg
    assert "wrong-token-value" not in msg and "wrong-token-value" not in repr(bad)
    assert not (tmp_path / "G7.zip").exists()


def test_netrc_and_env_token_are_used(server, tmp_path, monkeypatch):
    base, state = server
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
    dl.fetch(f"{base}/auth/G8.zip", tmp_path / "G8.zip", expected_md5=MD5, session=make_session(extra_trusted_hosts=("127.0.0.1",)), progress=False)
    assert state.requests[-1][2].startswith("Basic ")
    monkeypatch.setenv("EARTHDATA_TOKEN", TOKEN)
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    s = make_session(extra_trusted_hosts=("127.0.0.1",))
    dl.fetch(f"{base}/redirect/G9.zip", tmp_path / "G9.zip", expected_md5=MD5, session=s, progress=False)
    assert state.requests[-1] == ("/auth/target", None, f"Bearer {TOKEN}")  # token kept across the redirect


def test_404_and_network_errors_are_distinct(tmp_path, server):
    base, _ = server
    with pytest.raises(dl.NotFoundError, match="HTTP 404"):
        dl.fetch(f"{base}/missing/G10.zip", tmp_path / "G10.zip", session=session(), progress=False)
    with pytest.raises(dl.NetworkError, match="giving up after 2 attempts: network error"):
        dl.fetch("http://127.0.0.1:9/G11.zip", tmp_path / "G11.zip", session=session(), retries=1, backoff_s=0.0, timeout_s=2, progress=False)


def test_503_then_success(server, tmp_path):
    base, state = server
    out = dl.fetch(f"{base}/flaky/G12.zip", tmp_path / "G12.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5,
                   session=session(), retries=3, backoff_s=0.01, progress=False)
    assert out.read_bytes() == PAYLOAD and len(state.requests) == 3
    with pytest.raises(dl.ServerError, match="HTTP 503"):
        dl.fetch(f"{base}/flaky/G13.zip", tmp_path / "G13.zip", session=session(), retries=1, backoff_s=0.0, progress=False)


def test_concurrent_requests_for_the_same_granule_download_once(server, tmp_path):
    base, state = server
    errors: list[BaseException] = []

    def worker():
        try:
            dl.fetch(f"{base}/slow/G14.zip", tmp_path / "G14.zip", expected_bytes=len(PAYLOAD), expected_md5=MD5, session=session(), progress=False)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert (tmp_path / "G14.zip").read_bytes() == PAYLOAD
    assert sum(1 for p, _, _ in state.requests if p == "/slow/G14.zip") == 1


def test_download_granule_from_pairs_file(server, tmp_path):
    base, _ = server
    pairs = {"status": "ok", "pairs": [{
        "reference": {"scene": "S1A_REF", "url": f"{base}/ok/S1A_REF.zip", "bytes": len(PAYLOAD), "md5": MD5},
        "secondary": {"scene": "ACQ", "url": "", "bursts": [{"scene": "S1_1_IW3_B", "url": f"{base}/ok/b.tiff", "bytes": len(PAYLOAD), "md5": None}]},
    }]}
    pj = tmp_path / "ev.json"
    pj.write_text(json.dumps(pairs))
    out = dl.download_granule(pj, "S1_1_IW3_B", tmp_path / "slc" / "S1_1_IW3_B.tiff", {"retries": 0}, session=session())
    assert out.read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="ev.json: granule 'NOPE'"):
        dl.download_granule(pj, "NOPE", tmp_path / "x.zip", {}, session=session())
