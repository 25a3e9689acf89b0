"""The request journal: what clients sent and what the mock answered, bounded in size.

Every request to the emulated API is recorded (``/__admin/`` itself is not: reading the
journal must not change it). Entries hold copies with secrets already redacted, so nothing
read back through the control API can leak a token.

Bounded twice, so a long run cannot exhaust memory: in entries (the oldest dropped first) and
in bytes. A count alone let 1000 requests of 12,000 query parameters each take 2.35 GB: each
entry now keeps a bounded prefix of every big field (``field_chars`` of a text,
``field_items`` of a mapping or list: ``--journal-field-chars``, ``--journal-field-items``)
and names the fields it cut in ``"cut"``, and the oldest entries go when all together pass
``max_bytes`` (their JSON size).

The hot reads' entries are recorded ``later`` (``record_later``): what is known when the
answer leaves (the prepared parts, the time, the headers) is kept, and the entry is built
from it, by the same function as any other, the first time someone reads the journal. A
read then costs the hot path no formatting; its size is estimated from the parts' lengths.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from chatlabels.mock.limits import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE, ServerLimits

__all__ = ["DEFAULT_JOURNAL_SIZE", "MAX_FIELD_CHARS", "MAX_FIELD_ITEMS", "RequestJournal"]

#: Characters kept of a text field (a body, a header value, a query value), by default.
MAX_FIELD_CHARS: int = ServerLimits.journal_field_chars
#: Items kept of a mapping or list field (query parameters, headers, values of one name).
MAX_FIELD_ITEMS: int = ServerLimits.journal_field_items


def _bounded(value: Any, chars: int, items: int) -> tuple[Any, bool]:
    """``value`` with every text and collection in it cut to its bound; True if cut."""
    if isinstance(value, str):
        if len(value) <= chars:
            return value, False
        return f"{value[:chars]}...[cut, {len(value)} characters]", True
    if isinstance(value, dict):
        pairs = list(value.items())
        kept = [(k, *_bounded(v, chars, items)) for k, v in pairs[:items]]
        cut = len(pairs) > items or any(c for _, _, c in kept)
        return {str(k)[:chars]: v for k, v, _ in kept}, cut
    if isinstance(value, list):
        kept_items = [_bounded(v, chars, items) for v in value[:items]]
        cut = len(value) > items or any(c for _, c in kept_items)
        return [v for v, _ in kept_items], cut
    return value, False


def _bounded_fields(entry: dict[str, Any], chars: int, items: int) -> tuple[dict[str, Any], int]:
    """``entry`` with each field cut to its bounds (``"cut"`` naming them), and its size."""
    fields, cut = {}, []
    for name, value in entry.items():
        fields[name], was_cut = _bounded(value, chars, items)
        if was_cut:
            cut.append(name)
    if cut:
        fields["cut"] = cut
    return fields, len(json.dumps(fields, default=str))


class _Later:
    """An entry to be built when first read: its id, and the function and arguments that
    build it."""

    __slots__ = ("_build", "_entry", "id")

    def __init__(
        self, entry_id: int, build: Callable[..., dict[str, Any]], args: tuple[Any, ...]
    ) -> None:
        self.id = entry_id
        self._build: tuple[Callable[..., dict[str, Any]], tuple[Any, ...]] | None = (build, args)
        self._entry: dict[str, Any] | None = None

    def entry(self, chars: int, items: int) -> dict[str, Any]:
        """The entry, built and cut to ``chars``/``items`` on the first call (two readers at
        once may both build it: building is pure, so either result is the same)."""
        entry = self._entry
        if entry is None:
            build = self._build
            if build is None:  # built meanwhile: ``_entry`` is set before ``_build`` is dropped
                assert self._entry is not None
                return self._entry
            function, args = build
            entry = {"id": self.id, **_bounded_fields(function(*args), chars, items)[0]}
            self._entry = entry
            self._build = None
        return entry


class RequestJournal:
    """A thread-safe ring of request entries (plain JSON-ready dicts), oldest first."""

    def __init__(
        self,
        maxlen: int = DEFAULT_JOURNAL_SIZE,
        *,
        max_bytes: int = DEFAULT_JOURNAL_BYTES,
        field_chars: int = MAX_FIELD_CHARS,
        field_items: int = MAX_FIELD_ITEMS,
    ) -> None:
        if min(maxlen, max_bytes, field_chars, field_items) < 1:
            raise ValueError(
                "a journal holds at least 1 entry, 1 byte, 1 character and 1 item of a field "
                f"({maxlen}, {max_bytes}, {field_chars}, {field_items})"
            )
        self._field_bounds = (field_chars, field_items)
        self._lock = threading.Lock()
        #: each entry with its size (the JSON size, or the estimate of one built later)
        self._entries: deque[tuple[dict[str, Any] | _Later, int]] = deque()
        self._maxlen = maxlen
        self.max_bytes = max_bytes
        self._bytes = 0
        self._ids = itertools.count(1)

    @property
    def maxlen(self) -> int:
        return self._maxlen

    @property
    def bytes(self) -> int:
        """The JSON size of the entries held, which ``max_bytes`` bounds."""
        with self._lock:
            return self._bytes

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append a bounded copy of ``entry`` with a sequence ``id``; return what was stored."""
        fields, size = _bounded_fields(entry, *self._field_bounds)
        with self._lock:
            stored = {"id": next(self._ids), **fields}
            self._append(stored, size)
            return dict(stored)

    def record_later(
        self, build: Callable[..., dict[str, Any]], args: tuple[Any, ...], *, size: int
    ) -> None:
        """Append the entry ``build(*args)`` returns, built when first read; ``size``
        estimates its JSON size (``build`` must be pure: it may run more than once)."""
        with self._lock:
            self._append(_Later(next(self._ids), build, args), size)

    def _append(self, entry: dict[str, Any] | _Later, size: int) -> None:
        entries = self._entries
        entries.append((entry, size))
        self._bytes += size
        while len(entries) > self._maxlen or (self._bytes > self.max_bytes and len(entries) > 1):
            self._bytes -= entries.popleft()[1]

    def entries(
        self,
        *,
        path: str | None = None,
        instance: str | None = None,
        method: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Matching entries, oldest first; ``limit`` keeps the most recent ones.

        ``path`` is a shell-style glob (``*`` also crosses ``/``); ``instance`` matches the
        provider instance id or the WAHA session; ``method`` ignores case.
        """
        with self._lock:
            held = [entry for entry, _ in self._entries]
        bounds = self._field_bounds
        snapshot = [entry if isinstance(entry, dict) else entry.entry(*bounds) for entry in held]
        found = [
            dict(entry)
            for entry in snapshot
            if (path is None or fnmatch.fnmatchcase(entry["path"], path))
            and (instance is None or instance in {entry.get("instance"), entry.get("session")})
            and (method is None or entry["method"] == method.upper())
        ]
        return found[-limit:] if limit else found

    def clear(self) -> int:
        """Forget every entry; return how many there were."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            self._bytes = 0
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
