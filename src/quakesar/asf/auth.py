"""NASA Earthdata Login for ASF downloads: a bearer token from the environment, or ``~/.netrc``.

ASF serves Sentinel-1 products after an Earthdata Login (https://urs.earthdata.nasa.gov); the
download URL redirects to the login host and back. Two ways to authenticate
(https://docs.asf.alaska.edu/asf_search/downloading/):

* ``EARTHDATA_TOKEN``: an Earthdata user token, sent as ``Authorization: Bearer`` to ASF and
  Earthdata hosts only (kept across redirects between them, dropped for any other host, such as a
  signed S3 URL);
* ``~/.netrc`` (or the file named by ``$NETRC``) with ``machine urs.earthdata.nasa.gov login ...
  password ...``: ``requests`` applies it to the login host when redirected there.

The secret never leaves this module: it is not logged, not put into messages or outputs;
:func:`credential_source` only says which kind is in use.

Burst products (ASF's burst extractor, ``sentinel1-burst.asf.alaska.edu``) additionally need ASF's
``asf-urs`` session cookie, which a bearer token alone does not set (asf_search's
``ASFSession.auth_with_token`` documents the same limitation). :func:`ensure_asf_cookie` gets it
the way asf_search's ``auth_with_creds`` does: an Earthdata OAuth authorisation of ASF's
application (client id :data:`ASF_EDL_CLIENT_ID`) redirected to ASF's login endpoint
(:data:`ASF_AUTH_HOST`), which sets the cookie; the Earthdata login on the way uses ~/.netrc
when it has an entry, else the token.
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from urllib.parse import urlparse

import requests

TOKEN_ENV = "EARTHDATA_TOKEN"
EARTHDATA_HOST = "urs.earthdata.nasa.gov"
TRUSTED_SUFFIXES = (".earthdata.nasa.gov", ".asf.alaska.edu")
#: ASF's Earthdata application and login host (asf_search ``constants/INTERNAL.py``: EDL_CLIENT_ID,
#: ASF_AUTH_HOST); the burst extractor accepts the ``asf-urs`` cookie this login sets.
ASF_EDL_CLIENT_ID = "BO_n7nTIlMljdvU6kRRB3g"
ASF_AUTH_HOST = "cumulus.asf.alaska.edu"
ASF_COOKIE = "asf-urs"
BURST_HOST_PREFIX = "sentinel1-burst."


def _netrc_has(host: str) -> bool:
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return netrc.netrc(str(path)).authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def credential_source(env: dict[str, str] | None = None) -> str | None:
    """``"token"`` (``$EARTHDATA_TOKEN``), ``"netrc"`` (an Earthdata entry in ~/.netrc) or None."""
    env = os.environ if env is None else env
    if env.get(TOKEN_ENV, "").strip():
        return "token"
    if _netrc_has(EARTHDATA_HOST):
        return "netrc"
    return None


class EarthdataSession(requests.Session):
    """A ``requests`` session that keeps a bearer token across redirects between trusted hosts only."""

    def __init__(self, token: str | None = None, extra_trusted_hosts: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._trusted = tuple(extra_trusted_hosts)
        self._has_token = bool(token)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        from quakesar import __version__

        self.headers["User-Agent"] = f"quakesar/{__version__} python-requests/{requests.__version__}"

    def is_trusted(self, url: str) -> bool:
        host = (urlparse(url).hostname or "").lower()
        return host in self._trusted or any(host.endswith(s) or host == s[1:] for s in TRUSTED_SUFFIXES)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect: keep the bearer token for trusted hosts, otherwise behave like requests (strip, netrc)."""
        token = self.headers.get("Authorization") if self._has_token else None
        super().rebuild_auth(prepared_request, response)
        if token and self.is_trusted(prepared_request.url or ""):
            prepared_request.headers["Authorization"] = token
        elif token and prepared_request.headers.get("Authorization") == token:
            del prepared_request.headers["Authorization"]

    def __repr__(self) -> str:  # never show headers
        return f"EarthdataSession(token={'set' if self._has_token else 'unset'})"


def asf_authorize_url(edl_host: str = EARTHDATA_HOST, asf_auth_host: str = ASF_AUTH_HOST) -> str:
    """Earthdata OAuth authorisation of ASF's application, redirecting to ASF's login (sets ``asf-urs``)."""
    return (f"https://{edl_host}/oauth/authorize?splash=false&client_id={ASF_EDL_CLIENT_ID}"
            f"&response_type=code&redirect_uri=https://{asf_auth_host}/login")


def is_burst_url(url: str) -> bool:
    """True for a URL of ASF's burst extractor (needs the ``asf-urs`` cookie)."""
    return (urlparse(url).hostname or "").lower().startswith(BURST_HOST_PREFIX)


class CookieError(RuntimeError):
    """The Earthdata login did not give the ``asf-urs`` cookie burst downloads need."""


def ensure_asf_cookie(session: requests.Session, authorize_url: str | None = None, timeout_s: float = 60.0) -> str:
    """Make sure ``session`` carries ASF's ``asf-urs`` cookie; returns how it was obtained.

    ``"present"`` when the session has it already; otherwise one authorisation round trip
    (:func:`asf_authorize_url`, redirects followed, the cookie set by ASF's login endpoint):
    ``"netrc"`` or ``"token"`` for the credentials used. Raises :class:`CookieError` with what to
    do when the cookie did not come back (never naming the secret).
    """
    if session.cookies.get(ASF_COOKIE):
        return "present"
    url = authorize_url or getattr(session, "asf_authorize_url", None) or asf_authorize_url()
    # requests applies ~/.netrc to the Earthdata host whenever it has an entry (before the token header)
    how = "netrc" if _netrc_has(EARTHDATA_HOST) else (credential_source() or "no credentials")
    try:
        resp = session.get(url, allow_redirects=True, timeout=timeout_s)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise CookieError(f"Earthdata login for burst downloads failed: {type(exc).__name__}") from None
    with resp:
        ok = resp.status_code < 400
    if ok and session.cookies.get(ASF_COOKIE):
        return how
    hint = ("a bearer token alone does not give ASF's asf-urs cookie: add your Earthdata user name and password "
            "to ~/.netrc ('machine urs.earthdata.nasa.gov login <user> password <password>', chmod 600)"
            if how == "token" else AUTH_HELP)
    raise CookieError(f"burst downloads need ASF's '{ASF_COOKIE}' cookie, and the Earthdata login "
                      f"(credentials from {how}) answered HTTP {resp.status_code} without it; {hint}")


def make_session(extra_trusted_hosts: tuple[str, ...] = ()) -> EarthdataSession:
    """A session authenticated from ``$EARTHDATA_TOKEN`` if set, else relying on ~/.netrc."""
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    return EarthdataSession(token=token, extra_trusted_hosts=extra_trusted_hosts)


AUTH_HELP = (
    "Earthdata Login rejected the request. Set the environment variable EARTHDATA_TOKEN to an Earthdata "
    "user token (https://urs.earthdata.nasa.gov > Generate Token), or add "
    "'machine urs.earthdata.nasa.gov login <user> password <password>' to ~/.netrc (chmod 600); "
    "make sure the account has accepted the ASF data-use agreement (log in once at https://search.asf.alaska.edu)."
)
