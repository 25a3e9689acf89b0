"""JSON as RFC 8259 and UTF-8 define it, not as Python's ``json`` module reads it.

Python accepts ``NaN`` and ``Infinity`` (which then slip past every range check) and lone
surrogate escapes such as ``"\\ud800"`` (which cannot be encoded again, so a label named
with one would break every later answer that contains it). Every body and file the mock
reads goes through ``loads``, so neither gets into the state. The contract-test kit reads
targets' answers through ``inspect``, which lists those problems (and repeated keys, and
deep nesting) at their JSON pointers instead of refusing the document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "Problem", "inspect", "loads"]


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
    items: Iterable[tuple[Any, Any]]
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


#: Deeper than this, ``inspect`` stops walking and reports the nesting: no schema of the
#: contract nests past four levels, and a hostile body must not cost a RecursionError.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Problem:
    """A value a strict reader refuses, at its RFC 6901 pointer (``""`` is the document)."""

    pointer: str
    reason: str


def inspect(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> tuple[Any, list[Problem]]:
    """Parse ``text`` as leniently as Python does, and list what RFC 8259 would refuse.

    The document comes back with every problem found, each at its pointer: a key repeated in
    one object (the last value wins, as in Python), ``NaN``/``Infinity`` or a number too
    large for a double, a lone surrogate, and nesting deeper than ``max_depth``. Text that
    is not JSON at all raises ``ValueError`` (a document too deep to parse included).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    repeated: dict[int, list[str]] = {}

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            repeated[id(obj)] = [k for k, _ in items if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
        return obj

    try:
        document = json.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        raise ValueError(f"the document is nested more than {max_depth} levels deep") from None
    return document, _walk(document, repeated, max_depth)


def _walk(document: Any, repeated: dict[int, list[str]], max_depth: int) -> list[Problem]:
    """Every problem of ``document``, found without recursion (a deep body costs no stack)."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, pointer, depth = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            name = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
            problems.append(Problem(pointer, f"not a finite JSON number ({name} or too large)"))
        elif isinstance(value, str) and not value.isascii() and not _encodes(value):
            problems.append(Problem(pointer, "a lone UTF-16 surrogate (\\ud800-\\udfff)"))
        if not isinstance(value, dict | list):
            continue
        if depth >= max_depth:
            problems.append(Problem(pointer, f"nested more than {max_depth} levels deep"))
            continue
        if isinstance(value, dict):
            for key in repeated.get(id(value), []):
                problems.append(Problem(f"{pointer}/{_escape(key)}", f"key {key!r} repeated"))
            children = [(item, f"{pointer}/{_escape(key)}") for key, item in value.items()]
        else:
            children = [(item, f"{pointer}/{i}") for i, item in enumerate(value)]
        stack.extend((item, at, depth + 1) for item, at in reversed(children))
    return problems


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
