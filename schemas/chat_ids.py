"""WhatsApp chat ids as the contract accepts them (section 4 of the contract).

One grammar serves the mock (to accept or reject a path) and the kit (to generate valid and
invalid ids), so the two can never disagree about what a well-formed chat id is.
"""

from __future__ import annotations

import re

__all__ = ["ACCEPTED_FORMS", "MAX_DIGITS", "canonical_chat_id", "is_chat_id"]

MAX_DIGITS = 32

_DIGITS = rf"[0-9]{{1,{MAX_DIGITS}}}"
_CHAT_ID = re.compile(
    rf"""
    (?P<person>{_DIGITS})@(?P<suffix>c\.us|s\.whatsapp\.net)
    | {_DIGITS}(?:-{_DIGITS})?@g\.us
    | {_DIGITS}@(?:lid|newsletter)
    | status@broadcast
    | (?P<bare>{_DIGITS})
    """,
    re.VERBOSE,
)

#: Human-readable list, used in error messages that tell a client what would be accepted.
ACCEPTED_FORMS = (
    "<digits>@c.us",
    "<digits>@s.whatsapp.net",
    "<digits>@g.us",
    "<digits>-<digits>@g.us",
    "<digits>@lid",
    "<digits>@newsletter",
    "status@broadcast",
    "<digits> (a bare number means <digits>@c.us)",
)


def canonical_chat_id(raw: str) -> str | None:
    """The canonical form of ``raw`` (as WAHA answers it), or None when it is not a chat id.

    ``<n>@s.whatsapp.net`` and a bare ``<n>`` are the same person as ``<n>@c.us``.
    """
    match = _CHAT_ID.fullmatch(raw)
    if match is None:
        return None
    person = match.group("person") or match.group("bare")
    return f"{person}@c.us" if person else raw


def is_chat_id(raw: str) -> bool:
    """True when ``raw`` is a chat id in any accepted form."""
    return canonical_chat_id(raw) is not None
