"""Which instance, session and chat a request addresses, read once from its URL.

The journal files requests under it and fault rules and rate limits match on it, so the
three agree on what "this instance" and "this chat" mean: a provider ``instance_id`` and a
WAHA session name both name an instance, and a chat id in any accepted form names the same
chat as its canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Request

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.provider.auth import given_token, secrets_match
from chatlabels.mock.state.store import InstanceAccess, Store
from chatlabels.mock.waha.auth import given_api_key

__all__ = ["RequestTarget", "request_target"]

_WAHA_SESSION = re.compile(r"^/api/(?P<session>[^/]+)/")
_CHAT_IN_PATH = re.compile(r"/chats/(?P<chat>[^/]+)$")


@dataclass(frozen=True)
class RequestTarget:
    """What a request names; ``instance_id`` and ``session`` are filled in when known."""

    instance_id: str | None = None
    session: str | None = None
    chat: str | None = None
    authenticated: bool = False

    def names_instance(self, name: str) -> bool:
        """True when ``name`` is this request's instance id or its WAHA session."""
        return name in {self.instance_id, self.session}


def request_target(store: Store, request: Request) -> RequestTarget:
    """Read the target from the path and query; unknown instances keep the name given."""
    instance_id = request.args.get("instance_id") or None
    session_match = _WAHA_SESSION.match(request.path)
    session = session_match.group("session") if session_match else None
    if session is not None:
        known = store.credentials(session=session)
    elif instance_id is not None:
        known = store.credentials(instance_id=instance_id)
    else:
        known = None
    authenticated = False
    if known is not None:
        instance_id, session = known.id, known.session
        authenticated = _presents_secret_of(known, waha=session_match is not None)
    chat_match = _CHAT_IN_PATH.search(request.path)
    raw_chat = chat_match.group("chat") if chat_match else request.args.get("chatId")
    chat = canonical_chat_id(raw_chat) if raw_chat else None
    return RequestTarget(instance_id, session, chat, authenticated)


def _presents_secret_of(known: InstanceAccess, *, waha: bool) -> bool:
    """True when the request carries the instance's own key (WAHA) or token (provider),
    read exactly as the dialect's own authentication reads it."""
    try:
        given = given_api_key() if waha else given_token()
    except ApiError:  # a repeated parameter: the view answers it, nobody is authenticated
        return False
    expected = known.api_key if waha else known.token
    return given is not None and secrets_match(given, expected)
