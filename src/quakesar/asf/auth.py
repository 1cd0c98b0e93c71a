"""NASA Earthdata Login for ASF downloads: a bearer token from the environment, or ``~/.netrc``.

ASF serves Sentinel-1 products after an Earthdata Login (https://urs.earthdata.nasa.gov); the
download URL redirects to the login host and back. Two ways to authenticate
(https://docs.asf.alaska.edu/asf_search/downloading/):

* ``EARTHDATA_TOKEN``: an Earthdata user token, sent as ``Authorization: Bearer``;
* ``~/.netrc`` (or the file named by ``$NETRC``) with ``machine urs.earthdata.nasa.gov login ...
  password ...``: ``requests`` applies it to the login host when redirected there.

Either is attached only to Earthdata/ASF hosts (:func:`is_earthdata_host`), on the first request
as on every redirect: a pairs file (or a redirect) naming any other host, such as a signed S3 URL
or a mirror, gets no credentials (issue 17). The host list is the one ``asf_search`` trusts with
the same credentials (``asf_search.constants.INTERNAL.AUTH_DOMAINS`` in asf_search 14.1:
``asf.alaska.edu``, ``earthdata.nasa.gov``, with ``earthdatacloud.nasa.gov`` listed there as a
comment) plus NASA's Earthdata cloud domain ``earthdatacloud.nasa.gov``; each domain and its
subdomains, over HTTPS only.

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
#: ASF's Earthdata application and login host (asf_search ``constants/INTERNAL.py``: EDL_CLIENT_ID,
#: ASF_AUTH_HOST); the burst extractor accepts the ``asf-urs`` cookie this login sets.
ASF_EDL_CLIENT_ID = "BO_n7nTIlMljdvU6kRRB3g"
ASF_AUTH_HOST = "cumulus.asf.alaska.edu"
ASF_COOKIE = "asf-urs"
BURST_HOST_PREFIX = "sentinel1-burst."
# Domains (each with all its subdomains) that get the Earthdata credentials: see the module docstring.
EARTHDATA_DOMAINS = ("asf.alaska.edu", "earthdata.nasa.gov", "earthdatacloud.nasa.gov")


def is_earthdata_host(url: str, extra_hosts: tuple[str, ...] = (), https_only: bool = True) -> bool:
    """True when ``url`` may receive the Earthdata credentials: an HTTPS URL whose host is one of
    :data:`EARTHDATA_DOMAINS` or a subdomain of one, or whose host is exactly one of ``extra_hosts``
    (any scheme: hosts the caller vouches for, e.g. a local test server). Never a look-alike such as
    ``asf.alaska.edu.example.com`` or ``evilasf.alaska.edu``."""
    parts = urlparse(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return False
    if host in {h.lower() for h in extra_hosts}:
        return True
    if https_only and parts.scheme.lower() != "https":
        return False
    return any(host == d or host.endswith("." + d) for d in EARTHDATA_DOMAINS)


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
    """A ``requests`` session that attaches the Earthdata credentials (bearer token, else the netrc
    entry ``requests`` finds) to Earthdata/ASF hosts only, on the first request and on redirects.

    ``extra_trusted_hosts``: exact host names that get them too (tests); ``https_only=False`` lets
    the Earthdata domains get them over plain HTTP as well (tests that map those names to a local
    server). A request that sets its own ``auth`` or ``Authorization`` header keeps it."""

    def __init__(self, token: str | None = None, extra_trusted_hosts: tuple[str, ...] = (),
                 https_only: bool = True) -> None:
        super().__init__()
        self._trusted = tuple(extra_trusted_hosts)
        self._https_only = https_only
        self._token = token or None  # never in self.headers: those go to every host
        from quakesar import __version__

        self.headers["User-Agent"] = f"quakesar/{__version__} python-requests/{requests.__version__}"

    @property
    def _has_token(self) -> bool:
        return self._token is not None

    def is_trusted(self, url: str) -> bool:
        """Whether ``url``'s host gets the credentials (:func:`is_earthdata_host`)."""
        return is_earthdata_host(url, self._trusted, self._https_only)

    def _apply_credentials(self, prepared: requests.PreparedRequest) -> None:
        """The bearer token on a trusted host (it wins over a netrc entry); no Authorization elsewhere."""
        if self.is_trusted(prepared.url or ""):
            if self._token:
                prepared.headers["Authorization"] = f"Bearer {self._token}"
        else:
            prepared.headers.pop("Authorization", None)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """The first request of a call: credentials by host (requests itself would add a netrc entry
        for any host the netrc names, including a ``default`` entry for every host)."""
        explicit = request.auth is not None or any(k.lower() == "authorization" for k in (request.headers or {}))
        prepared = super().prepare_request(request)
        if not explicit:
            self._apply_credentials(prepared)
        return prepared

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect: requests strips Authorization on a host change and re-reads netrc; then the
        host policy decides (the token kept between trusted hosts, nothing for any other host)."""
        super().rebuild_auth(prepared_request, response)
        self._apply_credentials(prepared_request)

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
