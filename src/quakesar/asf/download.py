"""Verified, resumable downloads of ASF granules into the shared SLC cache (``data/slc/``).

Protocol (RFC 9110 range requests, section 14):

* a per-file lock (``.locks/<file>.lock``, ``fcntl.flock``) makes concurrent requests for the same
  granule (two events sharing a scene, two Snakemake jobs) download it once: the second waits and
  then finds the finished file;
* bytes go to ``<file>.partial`` (a stable name, so that an interrupted transfer resumes with
  ``Range: bytes=<size>-`` on the next attempt or the next run); a server that ignores the range
  (200 instead of 206) restarts the file; complete = size and MD5 equal ASF's metadata (``bytes``,
  ``md5sum``), then the partial file is renamed onto the target (``os.replace``, atomic) - the same
  temp-name-and-rename contract as :mod:`quakesar.atomic`, with a resumable temp name;
* 5xx/429 answers and broken connections are retried with exponential backoff (``Retry-After``
  honoured), keeping what arrived; 401/403 (credentials), 404 (no such granule) and other 4xx stop
  at once, each with its own message; a wrong checksum discards the partial file and retries from
  zero, then fails;
* HTTP 202 (ASF's burst extractor is still cutting the burst out of its SLC, see
  https://sentinel1-burst-docs.asf.alaska.edu/; asf_search polls it every second for up to 90 s)
  is polled every ``processing_poll_s`` for up to ``processing_timeout_s``
  (``download.burst_extraction_timeout_s``), without using up the retries;
* burst URLs need ASF's ``asf-urs`` cookie, which a token alone does not set: it is obtained
  once per session first (:func:`quakesar.asf.auth.ensure_asf_cookie`);
* a 200 answer that is an HTML page (Earthdata's login form, served instead of a 401 when the
  login did not take) stops at once with the credential error, instead of being saved as the
  granule and failing the size check after all retries;
* progress: a tqdm bar with bytes and transfer rate.

Credentials come from :mod:`quakesar.asf.auth` and never appear in messages or logs (URLs are
shown without their query string, which may hold signatures).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from tqdm import tqdm

from quakesar.asf.auth import AUTH_HELP, CookieError, credential_source, ensure_asf_cookie, is_burst_url, make_session

log = logging.getLogger(__name__)

CHUNK = 1 << 20
STREAM_CHUNK = 1 << 16  # small: a chunk being read when the connection breaks is lost
MAX_BACKOFF_S = 300.0
PROCESSING_TIMEOUT_S = 90.0  # asf_search polls a 202 burst for up to 90 s, once a second
PROCESSING_POLL_S = 1.0


class DownloadError(RuntimeError):
    """A download failed (base class)."""


class AuthenticationError(DownloadError):
    """HTTP 401/403: missing or rejected Earthdata credentials."""


class NotFoundError(DownloadError):
    """HTTP 404: the server has no such granule."""


class NetworkError(DownloadError):
    """The connection kept failing (DNS, refused, reset, timeout) after all retries."""


class ServerError(DownloadError):
    """The server kept answering 5xx/429 after all retries."""


class ChecksumError(DownloadError):
    """The downloaded bytes do not match ASF's size or MD5."""


class _Processing(Exception):
    """HTTP 202: the server is still preparing the file (ASF's burst extractor)."""


class _Retry(Exception):
    def __init__(self, why: str, wait_s: float | None = None) -> None:
        super().__init__(why)
        self.wait_s = wait_s


def public_url(url: str) -> str:
    """The URL without query or fragment (signed URLs carry secrets there)."""
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def md5_of(path: Path) -> str:
    """MD5 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected_bytes: int | None, expected_md5: str | None, md5_hex: str | None = None) -> str | None:
    """None when ``path`` matches the expected size and MD5 (each if known), else what differs.

    ``md5_hex``: the digest already computed while writing (saves a second read of the file).
    """
    size = path.stat().st_size
    if expected_bytes is not None and size != expected_bytes:
        return f"size {size} bytes, expected {expected_bytes}"
    if expected_md5:
        got = md5_hex or md5_of(path)
        if got.lower() != expected_md5.lower():
            return f"MD5 {got}, expected {expected_md5}"
    return None


@contextlib.contextmanager
def file_lock(target: Path) -> Iterator[None]:
    """Exclusive lock on ``<dir>/.locks/<name>.lock`` for the duration of the block (blocks until free).

    Lock files are left in place: removing one while another process waits on it would let two
    holders in at once.
    """
    lock = target.parent / ".locks" / (target.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def fetch(
    url: str,
    out_path: str | os.PathLike[str],
    *,
    expected_bytes: int | None = None,
    expected_md5: str | None = None,
    session: requests.Session | None = None,
    retries: int = 5,
    backoff_s: float = 2.0,
    timeout_s: float = 60.0,
    progress: bool = True,
    asf_cookie: bool | None = None,
    processing_timeout_s: float = PROCESSING_TIMEOUT_S,
    processing_poll_s: float = PROCESSING_POLL_S,
) -> Path:
    """Download ``url`` to ``out_path`` (resumable, verified, atomic); returns the path.

    An existing ``out_path`` that verifies is kept as is. ``asf_cookie``: get ASF's ``asf-urs``
    cookie first (default: for burst-extractor URLs). Raises :class:`AuthenticationError`,
    :class:`NotFoundError`, :class:`NetworkError`, :class:`ServerError`, :class:`ChecksumError`
    or :class:`DownloadError`, all naming the URL and the file.
    """
    target = Path(out_path)
    partial = target.with_name(target.name + ".partial")
    session = session or make_session()
    shown = public_url(url)
    with file_lock(target):
        if target.exists():
            problem = verify(target, expected_bytes, expected_md5)
            if problem is None:
                log.info("%s already present and verified", target)
                return target
            log.warning("%s exists but %s: downloading again", target, problem)
            target.unlink()
        if asf_cookie if asf_cookie is not None else is_burst_url(url):
            try:
                how = ensure_asf_cookie(session, timeout_s=timeout_s)
            except CookieError as exc:
                raise AuthenticationError(f"{shown}: {exc}") from None
            log.info("%s: ASF burst cookie %s", shown, "already set" if how == "present" else f"obtained ({how})")
        attempt = 0
        processing_since: float | None = None
        while True:
            try:
                digest = _transfer(session, url, partial, expected_bytes, timeout_s, progress, target.name)
                problem = verify(partial, expected_bytes, expected_md5, digest)
                if problem is not None:
                    partial.unlink(missing_ok=True)
                    if attempt >= retries:
                        raise ChecksumError(f"{shown} -> {target}: downloaded file has {problem} (ASF metadata); discarded after {attempt + 1} attempts")
                    raise _Retry(f"checksum mismatch ({problem}); restarting from zero")
                os.replace(partial, target)
                log.info("%s downloaded and verified (%s bytes%s)", target, target.stat().st_size, ", MD5 ok" if expected_md5 else "")
                return target
            except _Processing:
                now = time.monotonic()
                processing_since = now if processing_since is None else processing_since
                if now - processing_since >= processing_timeout_s:
                    raise ServerError(f"{shown} -> {target}: the server still answers HTTP 202 (preparing the burst) "
                                      f"after {processing_timeout_s:.0f} s; try again later") from None
                log.info("%s: HTTP 202, the burst is being extracted; asking again in %.1f s", shown, processing_poll_s)
                time.sleep(processing_poll_s)
            except _Retry as exc:
                if attempt >= retries:
                    kind = NetworkError if str(exc).startswith("network") else ServerError
                    raise kind(f"{shown} -> {target}: giving up after {attempt + 1} attempts: {exc}") from None
                wait = exc.wait_s if exc.wait_s is not None else min(MAX_BACKOFF_S, backoff_s * (2**attempt))
                log.warning("%s: %s; retry %d/%d in %.1f s", shown, exc, attempt + 1, retries, wait)
                time.sleep(wait)
                attempt += 1


def _transfer(session: requests.Session, url: str, partial: Path, expected_bytes: int | None,
              timeout_s: float, progress: bool, label: str) -> str | None:
    """One HTTP attempt, appending to ``partial`` from its current size; returns the file's MD5 (or None)."""
    shown = public_url(url)
    offset = partial.stat().st_size if partial.exists() else 0
    if expected_bytes is not None and offset > expected_bytes:
        partial.unlink()
        offset = 0
    if expected_bytes is not None and offset == expected_bytes and offset > 0:
        return None  # complete from an earlier attempt; verification reads it
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        resp = session.get(url, headers=headers, stream=True, timeout=timeout_s, allow_redirects=True)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Retry(f"network error: {type(exc).__name__}") from None
    with resp:
        code = resp.status_code
        if code in (401, 403):
            how = credential_source()
            raise AuthenticationError(f"{shown}: HTTP {code} ({'credentials from ' + how if how else 'no Earthdata credentials found'}). {AUTH_HELP}")
        if code == 202:
            raise _Processing()
        if code == 404:
            raise NotFoundError(f"{shown}: HTTP 404, the server has no such file (granule withdrawn or URL wrong in the pairs file)")
        if code == 416:  # our range starts at/after the end: restart cleanly
            partial.unlink(missing_ok=True)
            raise _Retry("server rejected the resume range (HTTP 416); restarting", wait_s=0.0)
        if code == 429 or code >= 500:
            retry_after = resp.headers.get("Retry-After")
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise _Retry(f"server error HTTP {code}", wait_s=wait)
        if code not in (200, 206):
            raise DownloadError(f"{shown}: unexpected HTTP {code}")
        if _is_login_page(resp, url):
            how = credential_source()
            raise AuthenticationError(
                f"{shown}: HTTP {code} with an HTML page from {urlsplit(resp.url or url).hostname} instead of the granule "
                f"(the Earthdata login did not accept the request; "
                f"{'credentials from ' + how if how else 'no Earthdata credentials found'}). {AUTH_HELP}")
        if code == 200 and offset:
            log.info("%s: server ignored the range request; restarting from zero", shown)
            offset = 0
        elif code == 206:
            start = _content_range_start(resp.headers.get("Content-Range", ""))
            if start != offset:
                partial.unlink(missing_ok=True)
                raise _Retry(f"server resumed at byte {start}, asked {offset}; restarting", wait_s=0.0)
        digest = hashlib.md5()
        if offset:  # resuming: the digest covers what is already on disk
            with open(partial, "rb") as fh:
                for block in iter(lambda: fh.read(CHUNK), b""):
                    digest.update(block)
        total = expected_bytes
        if total is None and resp.headers.get("Content-Length", "").isdigit():
            total = offset + int(resp.headers["Content-Length"])
        mode = "ab" if offset else "wb"
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=label[:40], disable=not progress, mininterval=1.0, leave=True)
        try:
            with open(partial, mode) as fh:
                for block in resp.iter_content(chunk_size=STREAM_CHUNK):
                    if block:
                        fh.write(block)
                        digest.update(block)
                        bar.update(len(block))
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise _Retry(f"network error while streaming: {type(exc).__name__}; resuming") from None
        finally:
            bar.close()
    size = partial.stat().st_size
    if total is not None and size < total:
        raise _Retry(f"network error: connection closed at {size} of {total} bytes; resuming")
    return digest.hexdigest()


def _is_login_page(resp: requests.Response, url: str) -> bool:
    """True when a 200/206 answer is an HTML page (a login form) although a granule (zip/tiff) was asked for."""
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    asked_html = public_url(url).lower().endswith((".html", ".htm"))
    return ctype in ("text/html", "application/xhtml+xml") and not asked_html


def _content_range_start(value: str) -> int | None:
    """First byte of ``Content-Range: bytes <start>-<end>/<total>``."""
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def granule_record(pairs_json: str | os.PathLike[str], granule: str) -> dict[str, Any]:
    """The scene/burst record named ``granule`` in a pairs file (reference, secondary or their bursts)."""
    path = Path(pairs_json)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the pairs file ({exc})") from exc
    for pair in doc.get("pairs", []):
        for role in ("reference", "secondary"):
            rec = pair.get(role, {})
            for r in [rec, *rec.get("bursts", [])]:
                if r.get("scene") == granule:
                    return r
    raise ValueError(f"{path}: granule {granule!r} is not a reference, secondary or burst of any chosen pair")


def local_name(record: dict[str, Any]) -> str:
    """File name of a granule in the SLC cache: ``<scene>.zip`` (SLC) or ``<burst>.tiff`` (burst product)."""
    ext = ".tiff" if public_url(str(record.get("url", ""))).lower().endswith((".tif", ".tiff")) else ".zip"
    return f"{record['scene']}{ext}"


def download_record(rec: dict[str, Any], out_path: Path, cfg: dict[str, Any], session: requests.Session | None = None) -> Path:
    """Download the granule a pairs-file record describes (``scene``, ``url``, ``bytes``, ``md5``)."""
    granule = rec.get("scene", "<unnamed>")
    if not rec.get("url"):
        raise ValueError(f"granule {granule!r}: no download URL in its pairs-file record")
    if session is None:
        src = credential_source()
        log.info("downloading %s (%s bytes) with %s", granule, rec.get("bytes"), f"Earthdata credentials from {src}" if src else "no Earthdata credentials")
    return fetch(
        rec["url"], out_path,
        expected_bytes=rec.get("bytes"), expected_md5=rec.get("md5"),
        session=session, retries=int(cfg.get("retries", 5)),
        backoff_s=float(cfg.get("backoff_s", 2.0)),
        processing_timeout_s=float(cfg.get("burst_extraction_timeout_s", PROCESSING_TIMEOUT_S)),
    )


class GranuleIndex:
    """granule -> record over all pairs files of a directory, re-reading only files that changed.

    The download rule looks up each granule's record (URL, size, MD5) in whichever event's pairs
    file names it, once per download job while Snakemake plans. A lookup costs one ``stat`` of the
    pairs directory: the merged index is rebuilt only when the directory changed (a search wrote or
    replaced a pairs file: they are written atomically, by rename) or the granule is missing, and a
    rebuild re-reads only the files whose mtime changed. Scanning every file per lookup instead
    would make planning O(events x granules).
    """

    def __init__(self, pairs_glob: str) -> None:
        self.pairs_glob = pairs_glob
        self._files: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self._merged: dict[str, dict[str, Any]] = {}
        self._stamp: int | None = None
        self.rebuilds = 0  # how many times the merged index was rebuilt (for tests and benchmarks)

    def _dir_stamp(self) -> int | None:
        try:
            return os.stat(os.path.dirname(self.pairs_glob) or ".").st_mtime_ns
        except FileNotFoundError:
            return None

    def _scan(self) -> None:
        import glob

        paths = sorted(glob.glob(self.pairs_glob))
        for gone in set(self._files) - set(paths):
            del self._files[gone]
        for path in paths:
            try:
                mtime = os.stat(path).st_mtime
            except FileNotFoundError:
                continue  # replaced or removed between glob and stat
            if path in self._files and self._files[path][0] == mtime:
                continue
            records: dict[str, dict[str, Any]] = {}
            try:
                doc = json.loads(Path(path).read_text())
            except (OSError, json.JSONDecodeError):
                continue  # being written by a running search; picked up on the next call
            for pair in doc.get("pairs", []):
                for role in ("reference", "secondary"):
                    rec = pair.get(role, {})
                    for r in [rec, *rec.get("bursts", [])]:
                        if r.get("scene") and r.get("url"):
                            records[r["scene"]] = r
            self._files[path] = (mtime, records)

    def _rebuild(self) -> None:
        self._stamp = self._dir_stamp()  # taken first: a change during the scan forces another rebuild
        self._scan()
        merged: dict[str, dict[str, Any]] = {}
        for path in sorted(self._files, reverse=True):  # the first file in name order wins
            merged.update(self._files[path][1])
        self._merged = merged
        self.rebuilds += 1

    def record(self, granule: str) -> dict[str, Any]:
        """The record of ``granule`` (first pairs file in name order that has it)."""
        if self.rebuilds == 0 or granule not in self._merged or self._dir_stamp() != self._stamp:
            self._rebuild()
        try:
            return self._merged[granule]
        except KeyError:
            raise ValueError(f"granule {granule!r}: no pairs file matching {self.pairs_glob} names it "
                             "(run the search first)") from None


def download_granule(pairs_json: Path, granule: str, out_path: Path, cfg: dict[str, Any], session: requests.Session | None = None) -> Path:
    """Download one granule named in a pairs file to ``out_path``, verified against ASF's size and MD5.

    ``cfg`` is the ``download`` config section (``retries``); tests may pass a ``session``.
    """
    return download_record(granule_record(pairs_json, granule), Path(out_path), cfg, session)
