"""Deliveries waiting to be sent: one lane per webhook, bounded in all.

A receiver that hangs or is down holds its lane's worker for up to ``(attempts + 1) x
timeout`` per delivery, while every label change keeps adding deliveries. Unbounded, a minute
of writes took the server from 42 to 361 MiB. Here at most ``max_pending`` deliveries wait,
all lanes together; a new one beyond that pushes out the oldest waiting one (of any lane),
which the dispatcher records as ``dropped``: the freshest changes are the ones a test is
still waiting for, and the log says what was lost.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Generic, TypeVar

__all__ = ["DeliveryQueue"]

Job = TypeVar("Job")


class DeliveryQueue(Generic[Job]):
    """FIFO lanes with a shared bound; not thread-safe (the dispatcher holds its lock)."""

    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError(f"the webhook queue holds at least 1 delivery, not {max_pending}")
        self.max_pending = max_pending
        self._lanes: dict[str, deque[Job]] = {}
        self._order: OrderedDict[int, str] = OrderedDict()  # id(job) -> lane, oldest first

    def put(self, lane: str, job: Job) -> list[Job]:
        """Queue ``job`` on ``lane``; return the oldest waiting jobs dropped to make room."""
        self._lanes.setdefault(lane, deque()).append(job)
        self._order[id(job)] = lane
        dropped = []
        while len(self._order) > self.max_pending:
            job_id, old_lane = self._order.popitem(last=False)
            waiting = self._lanes[old_lane]
            old = next(j for j in waiting if id(j) == job_id)
            waiting.remove(old)
            dropped.append(old)
        return dropped

    def take(self, lane: str) -> Job | None:
        """The next job of ``lane``, or None (and the lane is forgotten) when it is empty."""
        waiting = self._lanes.get(lane)
        if not waiting:
            self._lanes.pop(lane, None)
            return None
        job = waiting.popleft()
        del self._order[id(job)]
        return job

    def __len__(self) -> int:
        return len(self._order)
