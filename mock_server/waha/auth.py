"""Who is calling a WAHA route, judged in WAHA's order.

WAHA authenticates in a global middleware before routing (so an unknown ``/api/...`` path
without a key is a 401, not a 404), then resolves the session in a pipe. The mock does the
same: ``require_api_key`` runs before every ``/api/`` request, ``working_session`` is the first
thing each view does. Order: 401 (no key, or a key of no instance) -> 404 (unknown session)
-> 403 (the key of another session) -> 422 (session not WORKING).

Keys are per instance (fixture ``api_key``, default its ``token``), like WAHA's
session-scoped keys. The key was read and compared once, in constant time, when the request
was parsed (``ParsedRequest.caller``); this only decides the answer.
"""

from __future__ import annotations

from chatlabels.mock.http.parsed_request import ParsedRequest
from chatlabels.mock.provider.auth import single_value
from chatlabels.mock.state.store import InstanceAccess
from chatlabels.mock.waha.engines import require_label_support
from chatlabels.mock.waha.errors import forbidden, session_not_found, unauthorized

__all__ = ["require_api_key", "working_session"]


def require_api_key(parsed: ParsedRequest) -> None:
    """Before every ``/api/`` request: 401 unless the key belongs to some instance."""
    if parsed.dialect != "waha":
        return
    if not single_value(parsed.caller.secret) or not parsed.caller.opens_some_instance:
        raise unauthorized()


def working_session(parsed: ParsedRequest, name: str) -> InstanceAccess:
    """The instance a view acts on: it exists, the key opens it, and it is WORKING."""
    access = parsed.caller.access
    if access is None:
        raise session_not_found(name)
    if not parsed.caller.matched:
        raise forbidden()
    access.require_working()
    require_label_support(access.engine)
    return access
