"""Per-instance rate limits: ``requests`` per sliding ``window_seconds``, then 429.

The provider documents no rate-limit answer (contract section 2), so this is a decision:
429 with the provider's error envelope (``"error": "rate_limited"``) and ``Retry-After`` in
whole seconds (at least 1), the time until the oldest counted request leaves the window.
Every request that carries the instance's own token or key counts, whatever its answer (the
request hooks decide that); a refused request does not count. Limits come from the fixture
(``instances[].rate_limit``) and the control API.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from chatlabels.mock.http.errors import ApiError

__all__ = ["RateLimits", "fixture_rate_limits"]


def fixture_rate_limits(fixture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Instance id -> ``{"requests", "window_seconds"}`` for instances that declare one."""
    return {i["id"]: i["rate_limit"] for i in fixture["instances"] if "rate_limit" in i}


class RateLimits:
    """The limits in force and the recent request times they count, under one lock."""

    def __init__(
        self,
        limits: dict[str, dict[str, Any]] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        #: Bumped by every change of the limits in force (hot-read answers cached under an
        #: older version are stale: an instance may have gained a limit).
        self.version = 0
        self.load(limits or {})

    def load(self, limits: dict[str, dict[str, Any]]) -> None:
        """Replace every limit; ``reset`` returns to these. Counting starts afresh."""
        with self._lock:
            self._loaded = copy.deepcopy(limits)
            self._limits = copy.deepcopy(limits)
            self._seen: dict[str, deque[float]] = {}
            self.version += 1

    def reset(self) -> None:
        self.load(self._loaded)

    def set(self, instance_id: str, limit: dict[str, Any] | None) -> None:
        """Set (or with None remove) one instance's limit; its count starts afresh."""
        with self._lock:
            self._seen.pop(instance_id, None)
            if limit is None:
                self._limits.pop(instance_id, None)
            else:
                self._limits[instance_id] = dict(limit)
            self.version += 1

    def get(self, instance_id: str) -> dict[str, Any] | None:
        with self._lock:
            limit = self._limits.get(instance_id)
            return dict(limit) if limit else None

    def admit(self, instance_id: str) -> None:
        """Count one request, or raise the 429 when the instance's window is full."""
        with self._lock:
            limit = self._limits.get(instance_id)
            if limit is None:
                return
            now = self._clock()
            seen = self._seen.setdefault(instance_id, deque())
            while seen and seen[0] <= now - limit["window_seconds"]:
                seen.popleft()
            if len(seen) < limit["requests"]:
                seen.append(now)
                return
            retry_after = max(1, math.ceil(seen[0] + limit["window_seconds"] - now))
        raise ApiError(
            429,
            "rate_limited",
            f"Rate limit of {limit['requests']} requests per {limit['window_seconds']} s "
            f"reached for instance {instance_id}; retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
