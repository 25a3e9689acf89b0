"""Who may use ``/__admin/``: this machine's own programs, never a web page.

A web page the developer happens to open can send requests to 127.0.0.1 in two ways, and
each is refused here:

- **Cross-origin requests** (a ``<form>`` POST or a ``text/plain`` fetch need no preflight)
  carry an ``Origin`` header naming the page; only a loopback origin (or a configured public
  name) is accepted.
- **DNS rebinding**: the page's own name is re-resolved to 127.0.0.1, so its requests are
  same-origin and reach the mock with ``Host: rebind.attacker.example:PORT``. Only a
  ``Host`` that is a loopback name or address (or a configured public name, ``--public-host``)
  is accepted: the attacker cannot choose which ``Host`` the browser sends.

Then the token: beyond loopback the control API is off unless an admin token is set, and with
a token every call must carry it (``X-Admin-Token``, compared in constant time). Any blueprint
under ``/__admin/`` runs ``AdminGuard.check`` first (``bp.before_request``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Request

from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.redaction import secrets_match

__all__ = ["AdminGuard", "is_loopback_name"]

_WILDCARDS = {"", "0.0.0.0", "::"}


def is_loopback_name(name: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback addresses (127.0.0.0/8, ::1).

    Browsers resolve ``localhost`` and its subdomains to loopback themselves (RFC 6761), so
    no DNS answer an attacker controls can stand behind those names.
    """
    name = name.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _hostname(authority: str) -> str | None:
    """The host name of ``host[:port]`` (brackets of an IPv6 literal removed), lower-case."""
    try:
        parts = urlsplit(f"//{authority}")
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        return None
    return parts.hostname


class AdminGuard:
    """The access rules of the control API, for one server."""

    def __init__(
        self,
        *,
        admin_token: str | None,
        loopback_only: bool,
        public_hosts: Iterable[str] = (),
        bound_host: str = "127.0.0.1",
    ) -> None:
        self._token = admin_token
        self._loopback_only = loopback_only
        names = {name.lower().rstrip(".") for name in public_hosts}
        if bound_host not in _WILDCARDS:
            # The address the server was told to listen on is how its clients reach it.
            names.add(bound_host.lower().strip("[]"))
        self._public = frozenset(names)

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def _allowed(self, name: str | None) -> bool:
        return name is not None and (is_loopback_name(name) or name.rstrip(".") in self._public)

    def check(self, request: Request, *, token_required: bool = True) -> None:
        """Raise the ApiError that refuses ``request``, or return when it may go on.

        ``token_required=False`` (the dashboard's static files, which hold no data) skips
        only the token comparison: Host, Origin and "off beyond loopback" still apply."""
        if not self._allowed(_hostname(request.host)):
            raise ApiError(
                403,
                "forbidden_host",
                "The control API answers only requests addressed to a loopback name or "
                "address (Host: 127.0.0.1, localhost, [::1]), so that a web page whose name "
                "re-resolves to this machine (DNS rebinding) cannot drive it. Reaching the "
                "mock under another name? Start it with --public-host NAME.",
            )
        origin = request.headers.get("Origin")
        if origin is not None and not self._allowed(urlsplit(origin).hostname):
            # A web page the developer happens to open could otherwise reset or replace the
            # mock's state with a no-preflight POST; browsers always send Origin on those.
            raise ApiError(
                403,
                "cross_origin",
                "The control API refuses requests from web pages of another origin "
                "(only loopback origins, or a --public-host name, are accepted).",
            )
        if self._token is None:
            if self._loopback_only:
                return
            raise ApiError(
                403,
                "admin_disabled",
                "The control API is off because the server listens beyond loopback; start it "
                "with --admin-token TOKEN (or CHATLABELS_ADMIN_TOKEN) and send the token in "
                "the X-Admin-Token header.",
            )
        if not token_required:
            return
        given = request.headers.get("X-Admin-Token", "")
        if not (given and secrets_match(given, self._token)):
            raise ApiError(
                401, "unauthorized", "Missing or wrong X-Admin-Token header for /__admin/."
            )
