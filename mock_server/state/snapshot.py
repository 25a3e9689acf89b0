"""Published state: an immutable view of the store that reads take without the lock.

The store publishes a new ``Snapshot`` after every change (lazily: a change drops the
current one, the next read builds it under the lock), so a read sees either the state before
a write or after it, never a mix, and any read that starts after a write answered sees it.
Bodies rendered from a snapshot are cached on it: identical reads of an unchanged state cost
one dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["InstanceState", "Snapshot"]


@dataclass(frozen=True)
class InstanceState:
    """One instance as published: its labels in API form and each chat's label ids."""

    labels: Mapping[str, dict[str, Any]]
    chats: Mapping[str, tuple[str, ...]]

    def chat_labels(self, chat_id: str) -> list[dict[str, Any]]:
        """The chat's labels in link order, as fresh dicts; ``[]`` for an unknown chat."""
        return [dict(self.labels[i]) for i in self.chats.get(chat_id, ())]


@dataclass(frozen=True)
class Snapshot:
    """Every instance's published state, by instance id."""

    instances: Mapping[str, InstanceState]
    #: Counts the snapshots a store published: what was decided under one state can be
    #: recognised later without holding the state itself (http/fast_path.py).
    generation: int = 0
    _bodies: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    def chat_labels_body(
        self, instance_id: str, chat_id: str, render: Callable[[Any], bytes]
    ) -> bytes | None:
        """The chat's labels rendered by ``render``, cached; None for an unknown instance.

        Two threads may render the same body at once; both results are equal, so the race
        only costs a render. Every chat the instance does not have shares one cached ``[]``,
        so asking for ever new chats cannot grow the cache beyond the state's own chats.
        """
        instance = self.instances.get(instance_id)
        if instance is None:
            return None
        key = (instance_id, chat_id if chat_id in instance.chats else "")
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = render(instance.chat_labels(chat_id))
        return body
