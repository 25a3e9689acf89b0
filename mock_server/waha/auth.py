"""Who is calling a WAHA route, checked in WAHA's order.

WAHA authenticates in a global middleware before routing (so an unknown ``/api/...`` path
without a key is a 401, not a 404), then resolves the session in a pipe. The mock does the
same: ``require_api_key`` runs before every ``/api/`` request, ``working_session`` is the first
thing each view does. Order: 401 (no key, or a key of no instance) -> 404 (unknown session)
-> 403 (the key of another session) -> 422 (session not WORKING).

Keys are per instance (fixture ``api_key``, default its ``token``), like WAHA's
session-scoped keys; a request whose key opens the session it names takes one constant-time
comparison, and only a failing one is compared with every instance's key.
"""

from __future__ import annotations

from flask import request

from chatlabels.mock.provider.auth import secrets_match, single_query_param
from chatlabels.mock.state.store import InstanceAccess, Store
from chatlabels.mock.waha.errors import (
    WAHA_PREFIX,
    forbidden,
    session_not_found,
    unauthorized,
)

__all__ = ["given_api_key", "require_api_key", "working_session"]


def given_api_key() -> str | None:
    """The key as WAHA reads it: the ``X-Api-Key`` header wins over the ``x-api-key`` query.

    A header sent empty still wins (WAHA's ``header ?? query``) and so fails.
    """
    header = request.headers.get("X-Api-Key")
    query = single_query_param("x-api-key")
    return header if header is not None else query


def _path_session() -> str:
    """The first segment after ``/api/``, the session name on every WAHA label route."""
    return request.path[len(WAHA_PREFIX) :].split("/", 1)[0]


def require_api_key(store: Store) -> None:
    """Before every ``/api/`` request: 401 unless the key belongs to some instance."""
    if not request.path.startswith(WAHA_PREFIX):
        return
    key = given_api_key()
    if not key:
        raise unauthorized()
    named = store.credentials(session=_path_session())
    if named is not None and secrets_match(key, named.api_key):
        return
    # Compare with every key, no early exit: the timing must not tell which one was close.
    if not any([secrets_match(key, other.api_key) for other in store.all_credentials()]):
        raise unauthorized()


def working_session(store: Store, name: str) -> InstanceAccess:
    """The instance a view acts on: it exists, the key opens it, and it is WORKING."""
    credentials = store.credentials(session=name)
    if credentials is None:
        raise session_not_found(name)
    if not secrets_match(given_api_key() or "", credentials.api_key):
        raise forbidden()
    credentials.require_working()
    return credentials
