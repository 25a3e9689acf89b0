"""The plain in-memory model the stateful test holds a target to.

Nothing here talks HTTP: ``LabelModel`` is what the contract says the account should look
like after each call (labels in creation order, each chat's labels in link order, at most
20 labels, unique names, idempotent link/unlink, deleting a label removes it from every
chat), and each change returns the webhook events it must fire, as ``EventGroup``s: events
of one group may arrive in any order (the contract does not order a deleted label's
unlinks), groups arrive in order. A change that changes nothing returns no event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatlabels.contract.labels import MAX_LABELS, label_json

__all__ = ["Event", "EventGroup", "LabelModel"]

#: ``(event name, payload)`` as the webhook envelope carries them.
Event = tuple[str, dict[str, Any]]
EventGroup = list[Event]


@dataclass
class LabelModel:
    """The account as the contract says it must be.

    ``chats`` holds the chats whose full label list is known (tracked); ``others`` holds,
    per label, the chats seen only through Get Chats with Label (their order unknown), so
    a live account's other chats need not all be fetched.
    """

    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    chats: dict[str, list[str]] = field(default_factory=dict)
    others: dict[str, set[str]] = field(default_factory=dict)

    # -- reads ----------------------------------------------------------------------------
    def directory(self) -> list[dict[str, Any]]:
        return [dict(label) for label in self.labels.values()]

    def label(self, label_id: str) -> dict[str, Any] | None:
        found = self.labels.get(label_id)
        return dict(found) if found else None

    def chat_labels(self, chat: str) -> list[dict[str, Any]]:
        return [dict(self.labels[i]) for i in self.chats.get(chat, [])]

    def chats_with(self, label_id: str) -> set[str]:
        tracked = {chat for chat, ids in self.chats.items() if label_id in ids}
        return tracked | self.others.get(label_id, set())

    def untracked_labels_of(self, chat: str) -> set[str]:
        """The labels ``chat`` is known to carry while it is not tracked yet."""
        return {label_id for label_id, chats in self.others.items() if chat in chats}

    def track(self, chat: str, ordered_ids: list[str]) -> None:
        """Start tracking ``chat`` with the order the target answered."""
        for chats in self.others.values():
            chats.discard(chat)
        self.chats[chat] = list(ordered_ids)

    def name_owner(self, name: str) -> str | None:
        """The id of the label called ``name`` (exactly: names are unique, case-sensitive)."""
        return next((i for i, label in self.labels.items() if label["name"] == name), None)

    # -- changes ----------------------------------------------------------------------------
    def can_create(self) -> bool:
        return len(self.labels) < MAX_LABELS

    def create(self, label_id: str, name: str, color: int) -> list[EventGroup]:
        self.labels[label_id] = label_json(label_id, name, color)
        return [[("label.upsert", dict(self.labels[label_id]))]]

    def update(self, label_id: str, name: str, color: int) -> list[EventGroup]:
        new = label_json(label_id, name, color)
        if self.labels[label_id] == new:
            return []
        self.labels[label_id] = new
        return [[("label.upsert", dict(new))]]

    def delete(self, label_id: str) -> list[EventGroup]:
        label = self.labels.pop(label_id)
        unlinked = [
            self._chat_event("label.chat.deleted", label, c) for c in self._holders(label_id)
        ]
        for ids in self.chats.values():
            if label_id in ids:
                ids.remove(label_id)
        self.others.pop(label_id, None)
        return [group for group in (unlinked, [("label.deleted", dict(label))]) if group]

    def link(self, label_id: str, chat: str) -> list[EventGroup]:
        ids = self.chats.setdefault(chat, [])
        if label_id in ids:
            return []
        ids.append(label_id)
        return [[self._chat_event("label.chat.added", self.labels[label_id], chat)]]

    def unlink(self, label_id: str, chat: str) -> list[EventGroup]:
        ids = self.chats.setdefault(chat, [])
        if label_id not in ids:
            return []
        ids.remove(label_id)
        return [[self._chat_event("label.chat.deleted", self.labels[label_id], chat)]]

    def replace(self, chat: str, label_ids: list[str]) -> list[EventGroup]:
        """WAHA's full replace: the chat ends with exactly ``label_ids``, first occurrence wins."""
        wanted = list(dict.fromkeys(label_ids))
        current = self.chats.get(chat, [])
        events = [
            self._chat_event("label.chat.deleted", self.labels[i], chat)
            for i in current
            if i not in wanted
        ]
        events += [
            self._chat_event("label.chat.added", self.labels[i], chat)
            for i in wanted
            if i not in current
        ]
        self.chats[chat] = wanted
        return [events] if events else []

    # -- invariants -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What is wrong with the model itself (a bug in the test, not in the target)."""
        found = []
        if len(self.labels) > MAX_LABELS:
            found.append(f"{len(self.labels)} labels, more than {MAX_LABELS}")
        for chat, ids in self.chats.items():
            if len(set(ids)) != len(ids) or not set(ids) <= set(self.labels):
                found.append(f"chat {chat} holds {ids}")
        if not set(self.others) <= set(self.labels):
            found.append(f"untracked chats of deleted labels {set(self.others) - set(self.labels)}")
        return found

    def _holders(self, label_id: str) -> list[str]:
        tracked = [chat for chat, ids in self.chats.items() if label_id in ids]
        return tracked + sorted(self.others.get(label_id, set()))

    @staticmethod
    def _chat_event(name: str, label: dict[str, Any], chat: str) -> Event:
        return (name, {"labelId": label["id"], "chatId": chat, "label": dict(label)})
