"""JSON as RFC 8259 and UTF-8 define it, not as Python's ``json`` module reads it.

Python accepts ``NaN`` and ``Infinity`` (which then slip past every range check) and lone
surrogate escapes such as ``"\\ud800"`` (which cannot be encoded again, so a label named
with one would break every later answer that contains it). Every body and file the mock
reads goes through ``loads``, so neither gets into the state.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(text: str | bytes) -> Any:
    """Parse ``text``; raise ``json.JSONDecodeError`` (with line and column) or ValueError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")

    def refuse(name: str) -> None:
        raise json.JSONDecodeError(f"{name} is not a JSON number", text, max(text.find(name), 0))

    try:
        document = json.loads(text, parse_constant=refuse)
        where = _lone_surrogate(document, "")
    except RecursionError:
        raise ValueError("the document is nested too deeply") from None
    if where is not None:
        raise ValueError(
            f"the string at {where or '/'} holds a lone UTF-16 surrogate (\\ud800-\\udfff)"
        )
    return document


def _lone_surrogate(value: Any, pointer: str) -> str | None:
    """The JSON pointer of the first string (key or value) that is not valid Unicode."""
    if isinstance(value, str):
        return None if value.isascii() or _encodes(value) else pointer
    if isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, dict):
        for key in value:
            if not _encodes(key):
                return pointer
        items = value.items()
    else:
        return None
    for key, item in items:
        escaped = str(key).replace("~", "~0").replace("/", "~1")
        found = _lone_surrogate(item, f"{pointer}/{escaped}")
        if found is not None:
            return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
