"""The request journal: what clients sent and what the mock answered, bounded in size.

Every request to the emulated API is recorded (``/__admin/`` itself is not: reading the
journal must not change it). Entries hold copies with secrets already redacted, so nothing
read back through the control API can leak a token. The deque's ``maxlen`` drops the oldest
entry first, so a long run cannot exhaust memory.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from typing import Any

from chatlabels.mock.limits import DEFAULT_JOURNAL_SIZE

__all__ = ["DEFAULT_JOURNAL_SIZE", "RequestJournal"]


class RequestJournal:
    """A thread-safe ring of request entries (plain JSON-ready dicts), oldest first."""

    def __init__(self, maxlen: int = DEFAULT_JOURNAL_SIZE) -> None:
        if maxlen < 1:
            raise ValueError(f"journal size must be at least 1, not {maxlen}")
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._ids = itertools.count(1)

    @property
    def maxlen(self) -> int:
        return self._entries.maxlen or 0

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append a copy of ``entry`` with a sequence ``id``; return what was stored."""
        with self._lock:
            stored = {"id": next(self._ids), **entry}
            self._entries.append(stored)
            return dict(stored)

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
            snapshot = list(self._entries)
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
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
