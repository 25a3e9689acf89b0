"""Each request parsed once: one immutable value that every layer reads.

``parse_request`` runs first thing in the request hooks and reads the path, the query and the
credential headers exactly once; the rate limits, the fault rules, the journal, the access
log and the views all read the ``ParsedRequest`` it returns (``current_request()``), so they
cannot disagree on who is calling, which instance or chat is meant, or whether the secret
matched. Secrets are compared here and nowhere else, in constant time.

Parsing never answers: a problem (a repeated parameter, a missing token) is recorded as
found, and each dialect's auth raises it in that dialect's order (README "Get Chat Labels"
and "WAHA dialect").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import g
from werkzeug.wrappers import Request

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.mock.http.redaction import secrets_match
from chatlabels.mock.state.store import InstanceAccess, Store

__all__ = [
    "WAHA_PREFIX",
    "Caller",
    "Dialect",
    "ParsedRequest",
    "Repeated",
    "Single",
    "current_request",
    "dialect_of",
    "parse_request",
]

#: ``control`` is the mock's own surface (``/__admin/``, ``/openapi.json``): not emulated.
Dialect = Literal["provider", "waha", "control"]

WAHA_PREFIX = "/api/"
_CHAT_IN_PATH = re.compile(r"/chats/(?P<chat>[^/]+)$")
#: Compared with a token for an unknown instance, so timing does not tell it was unknown.
_NO_SECRET = "\x00chatlabels-no-such-instance\x00"


@dataclass(frozen=True)
class Repeated:
    """A parameter that may appear once was given ``count`` times."""

    name: str
    count: int


#: A parameter that may appear at most once: its value, None when absent, or ``Repeated``.
Single = str | Repeated | None


@dataclass(frozen=True)
class Caller:
    """Who is calling, read as the request's dialect reads it.

    ``secret`` is the provider token (``access_token`` query, else the ``access-token``
    header) or the WAHA key (``X-Api-Key`` header, else the ``x-api-key`` query).
    ``access`` is the instance the request names (provider ``instance_id``, WAHA session),
    ``matched`` whether ``secret`` is that instance's own; ``opens_some_instance`` whether
    it is any instance's WAHA key; ``conflicting`` whether the provider's query token and
    header token were both given and differ.
    """

    secret: Single = field(default=None, repr=False)
    access: InstanceAccess | None = field(default=None, repr=False)
    matched: bool = False
    opens_some_instance: bool = False
    conflicting: bool = False


@dataclass(frozen=True)
class ParsedRequest:
    """What one request says, read once. ``instance_id``/``session`` are the named
    instance's when it is known, else as given; ``chat`` is canonical (None if malformed)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = field(repr=False)
    dialect: Dialect
    caller: Caller = Caller()
    instance_id: str | None = None
    session: str | None = None
    chat: str | None = None
    path_chat: str | None = None
    instance_param: Single = None
    chat_param: Single = None

    @property
    def emulated(self) -> bool:
        """True for the emulated API: faults, rate limits and the journal apply."""
        return self.dialect != "control"

    @property
    def counted_instance(self) -> str | None:
        """The instance whose rate limit this request spends: only one that carries the
        instance's own secret counts (a stranger's wrong token must not spend the quota)."""
        access = self.caller.access
        return access.id if access is not None and self.caller.matched else None

    def names_instance(self, name: str) -> bool:
        """True when ``name`` is this request's instance id or its WAHA session."""
        return name in {self.instance_id, self.session}


def dialect_of(path: str) -> Dialect:
    """Which surface a path belongs to; only ``provider`` and ``waha`` are emulated."""
    if path == "/__admin" or path.startswith("/__admin/") or path == "/openapi.json":
        return "control"
    return "waha" if path.startswith(WAHA_PREFIX) else "provider"


def parse_request(
    store: Store, request: Request, *, view_args: Mapping[str, Any] | None
) -> ParsedRequest:
    """Read ``request`` once; look its instance up in ``store`` and compare its secret.

    ``view_args`` are the router's captures (Flask's ``request.view_args``), where the chat
    in the path comes from when a route matched.
    """
    method, path = request.method, request.path
    query = tuple(request.args.items(multi=True))
    dialect = dialect_of(path)
    if dialect == "control":
        return ParsedRequest(method, path, query, dialect)
    values: dict[str, list[str]] = {}
    for name, value in query:
        values.setdefault(name, []).append(value)
    given_instance = _first(values, "instance_id") or None
    if dialect == "waha":
        named_session = path[len(WAHA_PREFIX) :].split("/", 1)[0] or None
        access = store.credentials(session=named_session) if named_session else None
        caller = _waha_caller(store, access, request.headers.get("X-Api-Key"), values)
    else:
        named_session = None
        access = store.credentials(instance_id=given_instance) if given_instance else None
        caller = _provider_caller(access, request.headers.get("access-token"), values)
    path_chat = (view_args or {}).get("chat_id")
    raw_chat = path_chat
    if raw_chat is None:
        in_path = _CHAT_IN_PATH.search(path)
        raw_chat = in_path.group("chat") if in_path else _first(values, "chatId")
    return ParsedRequest(
        method,
        path,
        query,
        dialect,
        caller,
        instance_id=access.id if access else given_instance,
        session=access.session if access else named_session,
        chat=canonical_chat_id(raw_chat) if raw_chat else None,
        path_chat=path_chat,
        instance_param=_single(values, "instance_id"),
        chat_param=_single(values, "chatId"),
    )


def current_request() -> ParsedRequest:
    """The value the request hooks parsed for the request being handled."""
    parsed = g.get("parsed_request")
    if not isinstance(parsed, ParsedRequest):
        raise RuntimeError("no parsed request: the app's request hooks are not installed")
    return parsed


def _provider_caller(
    access: InstanceAccess | None, header: str | None, values: dict[str, list[str]]
) -> Caller:
    query_token = _single(values, "access_token")
    secret = query_token if query_token is not None else header
    matched = False
    if isinstance(secret, str) and secret:
        expected = access.token if access is not None else _NO_SECRET
        matched = secrets_match(secret, expected) and access is not None
    conflicting = (
        isinstance(query_token, str)
        and header is not None
        and not secrets_match(query_token, header)
    )
    return Caller(secret, access, matched, matched, conflicting)


def _waha_caller(
    store: Store, access: InstanceAccess | None, header: str | None, values: dict[str, list[str]]
) -> Caller:
    # WAHA reads ``header ?? query``; a repeated query key is refused even beside a header.
    query_key = _single(values, "x-api-key")
    secret = query_key if isinstance(query_key, Repeated) or header is None else header
    if not (isinstance(secret, str) and secret):
        return Caller(secret, access)
    matched = access is not None and secrets_match(secret, access.api_key)
    # Compare with every key, no early exit: the timing must not tell which one was close.
    opens = matched or any([secrets_match(secret, o.api_key) for o in store.all_credentials()])
    return Caller(secret, access, matched, opens)


def _first(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return found[0] if found else None


def _single(values: dict[str, list[str]], name: str) -> Single:
    found = values.get(name, [])
    if len(found) > 1:
        return Repeated(name, len(found))
    return found[0] if found else None
