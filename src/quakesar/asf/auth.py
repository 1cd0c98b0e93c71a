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
