"""Engine profiles: where WAHA's answer depends on the session's engine, answer as it does.

A fixture instance names its ``engine`` (``WEBJS`` by default, ``NOWEB``, ``GOWS``; ``VENOM``
for old fixtures). Citations are WAHA 2025.10.4 (commit 41b669a) unless noted; the README's
"Engine profiles" table lists them all, with what the mock does not copy and why.

- ``GET /api/{session}/labels/{labelId}/chats`` returns the engine's own chat objects:
  WEBJS whatsapp-web.js ``Chat``/``GroupChat`` instances (``session.webjs.core.ts``
  l.944-991, whatsapp-web.js ``Chat.js`` ``_patch`` l.17-85, ``GroupChat.js`` l.18-22);
  NOWEB the Baileys store's chats, ids as stored (``@s.whatsapp.net``) and ``unreadCount``
  deleted (``session.noweb.core.ts`` l.1290-1295); GOWS only ``{"id"}`` in ``@c.us`` form
  (``session.gows.core.ts`` l.1880-1892).
- An unknown label there: WEBJS fails inside the browser page (``Client.js`` l.1800-1813
  reads ``labelItemCollection`` of undefined) and WAHA answers its 500; NOWEB and GOWS
  answer ``[]``.
- VENOM (removed from WAHA in 2024.10.1) implemented no label method: every label call was
  WAHA's 422 "not implemented" (``session.abc.ts`` and ``exceptions.ts`` at 2024.8.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatlabels.mock.waha.errors import engine_exception, not_implemented_by_engine

__all__ = ["ChatFacts", "chats_by_label", "require_label_support", "unknown_label_chats"]


@dataclass(frozen=True)
class ChatFacts:
    """A chat as the fixture tells it (``chats`` object form), defaults filled in."""

    id: str  # canonical, e.g. 5511988887777@c.us
    name: str
    named: bool  # the fixture gave the name (else it is the default above)
    is_group: bool
    timestamp: int | None
    unread_count: int
    archived: bool
    pinned: bool

    @classmethod
    def of(cls, chat_id: str, details: dict[str, Any]) -> ChatFacts:
        user, _, server = chat_id.partition("@")
        default_name = f"+{user}" if server == "c.us" else user
        return cls(
            id=chat_id,
            name=details.get("name", default_name),
            named="name" in details,
            is_group=details.get("isGroup", server == "g.us"),
            timestamp=details.get("timestamp"),
            unread_count=details.get("unreadCount", 0),
            archived=details.get("archived", False),
            pinned=details.get("pinned", False),
        )


def require_label_support(engine: str) -> None:
    """VENOM sessions refuse every label call, as WAHA's base session class did."""
    if engine == "VENOM":
        raise not_implemented_by_engine()


def chats_by_label(engine: str, chats: list[ChatFacts]) -> list[dict[str, Any]]:
    """The answer to chats-by-label for ``engine``, in the fixture's chat order."""
    if engine == "WEBJS":
        return [_webjs_chat(chat) for chat in chats]
    if engine == "NOWEB":
        return [_noweb_chat(chat) for chat in chats]
    return [{"id": chat.id} for chat in chats]


def unknown_label_chats(engine: str) -> list[dict[str, Any]]:
    """Chats-by-label for a label the session does not have: ``[]``, or WEBJS's failure."""
    if engine == "WEBJS":
        raise engine_exception(
            "TypeError",
            "Cannot read properties of undefined (reading 'labelItemCollection')",
            engine=engine,
        )
    return []


def _wid(chat_id: str) -> dict[str, str]:
    """whatsapp-web.js's ``Wid``: ``{"server", "user", "_serialized"}``."""
    user, _, server = chat_id.partition("@")
    return {"server": server, "user": user, "_serialized": chat_id}


def _webjs_chat(chat: ChatFacts) -> dict[str, Any]:
    """A whatsapp-web.js chat as NestJS serialises it: own fields in ``_patch`` order."""
    body: dict[str, Any] = {}
    if chat.is_group:
        # GroupChat._patch sets groupMetadata before Chat._patch; the mock fills its id and
        # subject only (WhatsApp's full metadata has participants, owner, creation...).
        body["groupMetadata"] = {"id": _wid(chat.id), "subject": chat.name}
    body |= {
        "id": _wid(chat.id),
        "name": chat.name,
        "isGroup": chat.is_group,
        "isReadOnly": False,
        "unreadCount": chat.unread_count,
    }
    if chat.timestamp is not None:  # undefined in JavaScript: JSON.stringify leaves it out
        body["timestamp"] = chat.timestamp
    body |= {
        "archived": chat.archived,
        "pinned": chat.pinned,
        "isMuted": False,
        "muteExpiration": 0,
    }
    return body


def _noweb_chat(chat: ChatFacts) -> dict[str, Any]:
    """A Baileys store chat: the JID as stored, no ``unreadCount`` (WAHA deletes it)."""
    user, _, server = chat.id.partition("@")
    body: dict[str, Any] = {
        "id": f"{user}@s.whatsapp.net" if server == "c.us" else chat.id,
        "conversationTimestamp": chat.timestamp,
    }
    if chat.named or chat.is_group:  # WhatsApp syncs a name for groups and saved contacts only
        body["name"] = chat.name
    if chat.archived:
        body["archived"] = True
    if chat.pinned:  # Baileys keeps the time it was pinned
        body["pinned"] = chat.timestamp or 0
    return body
