"""The emulated account state: every instance's labels and chat links, behind one lock.

Every read and write of labels goes through ``Store``; each method takes the lock once, so a
client never sees a half-applied change and concurrent writers never lose an update. Real
changes are announced to listeners (the webhook dispatcher) while the lock is held, so
events are delivered in the order the changes happened; a write that changes nothing
announces nothing.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from chatlabels.contract.labels import MAX_LABELS, label_json
from chatlabels.mock.state.errors import (
    DuplicateLabelName,
    LabelLimitReached,
    SessionNotReady,
    UnknownInstance,
    UnknownLabel,
    UnknownLabels,
)
from chatlabels.mock.state.snapshot import InstanceState, Snapshot

__all__ = ["EventListener", "InstanceAccess", "Store", "api_label"]

#: ``listener(instance_fixture, event_name, payload)``; must not block.
EventListener = Callable[[dict[str, Any], str, dict[str, Any]], None]


@dataclass(frozen=True)
class InstanceAccess:
    """Who an instance is and what opens it (token, WAHA key), copied out of the store."""

    id: str
    token: str
    session: str
    api_key: str
    status: str
    engine: str = "WEBJS"

    def require_working(self) -> None:
        """An instance acts only while its session is ``WORKING``, as on the real account."""
        if self.status != "WORKING":
            raise SessionNotReady(self.id, self.session, self.status)


def _access(instance: dict[str, Any]) -> InstanceAccess:
    return InstanceAccess(
        id=instance["id"],
        token=instance["token"],
        session=instance["session"],
        api_key=instance.get("api_key", instance["token"]),
        status=instance["status"],
        engine=instance.get("engine", "WEBJS"),
    )


def api_label(label: dict[str, Any]) -> dict[str, Any]:
    """A stored label as the API answers it."""
    return label_json(label["id"], label["name"], label["color"])


def _from_fixture(instance: dict[str, Any]) -> dict[str, Any]:
    """An instance as the store keeps it: ``chats`` maps a chat to its label ids only; what
    a fixture tells about a chat besides (the object form) waits in ``chat_details``."""
    kept = copy.deepcopy(instance)
    kept["chat_details"] = {}
    for chat_id, value in kept["chats"].items():
        if isinstance(value, dict):
            kept["chats"][chat_id] = value.pop("labels", [])
            kept["chat_details"][chat_id] = value
    return kept


def _as_fixture(instance: dict[str, Any]) -> dict[str, Any]:
    """An instance as a fixture writes it: a chat with details is an object again."""
    dumped = copy.deepcopy(instance)
    details = dumped.pop("chat_details", {})
    for chat_id, facts in details.items():
        if chat_id in dumped["chats"]:
            dumped["chats"][chat_id] = {"labels": dumped["chats"][chat_id], **facts}
    return dumped


class Store:
    """All instances of one loaded fixture, plus the pristine copy ``reset`` returns to."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        self._lock = threading.RLock()
        self._listeners: list[EventListener] = []
        self._published: Snapshot | None = None
        self._generations = itertools.count(1)
        self.load(fixture)

    # -- whole-state operations -------------------------------------------------------
    def load(self, fixture: dict[str, Any]) -> None:
        """Replace everything with a validated, normalised fixture (see fixtures.py)."""
        with self._lock:
            self._fixture = copy.deepcopy(fixture)
            self._instances: dict[str, dict[str, Any]] = {
                i["id"]: _from_fixture(i) for i in fixture["instances"]
            }
            self._by_session = {i["session"]: i["id"] for i in fixture["instances"]}
            self._published = None

    def reset(self) -> None:
        """Return to the fixture last loaded."""
        with self._lock:  # read the saved fixture under the lock: a concurrent load wins whole
            self.load(self._fixture)

    def dump(self) -> dict[str, Any]:
        """The current state as a fixture document that ``load`` accepts as is."""
        with self._lock:
            dumped = {k: copy.deepcopy(v) for k, v in self._fixture.items() if k != "instances"}
            dumped["instances"] = [_as_fixture(i) for i in self._instances.values()]
            return dumped

    def published(self) -> Snapshot:
        """The state as an immutable snapshot, read without the lock once published.

        Every change drops the published snapshot before its answer leaves, so a read that
        starts after a write answered builds (or finds) one that includes it.
        """
        published = self._published
        if published is None:
            with self._lock:
                published = self._published
                if published is None:
                    published = self._published = Snapshot(
                        {i: _instance_state(inst) for i, inst in self._instances.items()},
                        next(self._generations),
                    )
        return published

    def add_listener(self, listener: EventListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    # -- look-ups -----------------------------------------------------------------------
    def credentials(
        self, *, instance_id: str | None = None, session: str | None = None
    ) -> InstanceAccess | None:
        """An instance's access by provider instance id or by WAHA session; None if unknown."""
        with self._lock:
            if session is not None:
                instance_id = self._by_session.get(session)
            instance = self._instances.get(instance_id or "")
            return None if instance is None else _access(instance)

    def all_credentials(self) -> list[InstanceAccess]:
        """Every instance's access, for a key that must be compared with all of them."""
        with self._lock:
            return [_access(instance) for instance in self._instances.values()]

    def labels(self, instance_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [api_label(label) for label in self._instance(instance_id)["labels"]]

    def label(self, instance_id: str, label_id: str) -> dict[str, Any]:
        with self._lock:
            return api_label(self._find_label(self._instance(instance_id), label_id))

    def chat_labels(self, instance_id: str, chat_id: str) -> list[dict[str, Any]]:
        """The labels of a chat in link order; ``[]`` for a chat the account never saw.

        Read from the published snapshot, the one source the fast path answers from too.
        """
        instance = self.published().instances.get(instance_id)
        if instance is None:
            raise UnknownInstance(instance_id)
        return instance.chat_labels(chat_id)

    def chats_with_label(self, instance_id: str, label_id: str) -> list[dict[str, str]]:
        return [{"id": chat} for chat, _ in self.labelled_chats(instance_id, label_id)]

    def labelled_chats(self, instance_id: str, label_id: str) -> list[tuple[str, dict[str, Any]]]:
        """``(chat id, what the fixture tells about the chat)`` for each chat with the label."""
        with self._lock:
            instance = self._instance(instance_id)
            self._find_label(instance, label_id)
            details = instance.get("chat_details", {})
            return [
                (chat, copy.deepcopy(details.get(chat, {})))
                for chat, ids in instance["chats"].items()
                if label_id in ids
            ]

    def knows_chat(self, instance_id: str, chat_id: str) -> bool:
        """True when the account has the chat (in the fixture, or labelled since)."""
        with self._lock:
            return chat_id in self._instance(instance_id)["chats"]

    # -- changes ------------------------------------------------------------------------
    def create_label(self, instance_id: str, *, name: str, color: int) -> dict[str, Any]:
        with self._lock:
            instance = self._instance(instance_id)
            labels = instance["labels"]
            if len(labels) >= MAX_LABELS:
                raise LabelLimitReached(instance_id, MAX_LABELS)
            self._refuse_taken_name(instance, name, but=None)
            next_id = max((int(label["id"]) for label in labels), default=0) + 1
            label = {"id": str(next_id), "name": name, "color": color}
            labels.append(label)
            self._emit(instance, "label.upsert", api_label(label))
            return api_label(label)

    def update_label(
        self,
        instance_id: str,
        label_id: str,
        *,
        name: str,
        color: int,
        refuse_own_name: bool = False,
    ) -> dict[str, Any]:
        """Rename and recolour a label. Its name must not be another label's; with
        ``refuse_own_name`` not its own either (WAHA's update, see waha/api.py)."""
        with self._lock:
            instance = self._instance(instance_id)
            label = self._find_label(instance, label_id)
            self._refuse_taken_name(instance, name, but=None if refuse_own_name else label_id)
            if (label["name"], label["color"]) != (name, color):
                label.update(name=name, color=color)
                self._emit(instance, "label.upsert", api_label(label))
            return api_label(label)

    def delete_label(self, instance_id: str, label_id: str) -> dict[str, Any]:
        """Delete a label and unlink it from every chat (each unlink is an event too)."""
        with self._lock:
            instance = self._instance(instance_id)
            label = self._find_label(instance, label_id)
            for chat_id, ids in instance["chats"].items():
                if label_id in ids:
                    ids.remove(label_id)
                    self._emit_chat_event(instance, "label.chat.deleted", label, chat_id)
            instance["labels"].remove(label)
            self._emit(instance, "label.deleted", api_label(label))
            return api_label(label)

    def link(self, instance_id: str, label_id: str, chat_id: str) -> bool:
        """Attach a label to a chat; idempotent, True when something changed."""
        with self._lock:
            instance = self._instance(instance_id)
            label = self._find_label(instance, label_id)
            ids = instance["chats"].setdefault(chat_id, [])
            if label_id in ids:
                return False
            ids.append(label_id)
            self._emit_chat_event(instance, "label.chat.added", label, chat_id)
            return True

    def unlink(self, instance_id: str, label_id: str, chat_id: str) -> bool:
        """Detach a label from a chat; idempotent, True when something changed."""
        with self._lock:
            instance = self._instance(instance_id)
            label = self._find_label(instance, label_id)
            ids = instance["chats"].get(chat_id, [])
            if label_id not in ids:
                return False
            ids.remove(label_id)
            self._emit_chat_event(instance, "label.chat.deleted", label, chat_id)
            return True

    def replace_chat_labels(self, instance_id: str, chat_id: str, label_ids: Iterable[str]) -> None:
        """WAHA's full replace: the chat ends with exactly ``label_ids`` (``[]`` clears)."""
        with self._lock:
            instance = self._instance(instance_id)
            wanted = list(dict.fromkeys(label_ids))
            by_id = {label["id"]: label for label in instance["labels"]}
            missing = tuple(label_id for label_id in wanted if label_id not in by_id)
            if missing:
                raise UnknownLabels(instance_id, missing[0], missing)
            labels = [by_id[label_id] for label_id in wanted]
            current = instance["chats"].get(chat_id, [])
            for label_id in [i for i in current if i not in wanted]:
                self._emit_chat_event(instance, "label.chat.deleted", by_id[label_id], chat_id)
            for label in labels:
                if label["id"] not in current:
                    self._emit_chat_event(instance, "label.chat.added", label, chat_id)
            instance["chats"][chat_id] = wanted
            self._published = None  # also when only the order changed (no event for that)

    # -- helpers ------------------------------------------------------------------------
    def _instance(self, instance_id: str) -> dict[str, Any]:
        """The instance a request authenticated for, unless a fixture loaded since removed it."""
        instance = self._instances.get(instance_id)
        if instance is None:
            raise UnknownInstance(instance_id)
        return instance

    @staticmethod
    def _refuse_taken_name(instance: dict[str, Any], name: str, *, but: str | None) -> None:
        """Names are unique in an account: exact, case-sensitive, untrimmed, as in WAHA."""
        for label in instance["labels"]:
            if label["name"] == name and label["id"] != but:
                raise DuplicateLabelName(instance["id"], label["name"], label["id"])

    @staticmethod
    def _find_label(instance: dict[str, Any], label_id: str) -> dict[str, Any]:
        labels: list[dict[str, Any]] = instance["labels"]
        for label in labels:
            if label["id"] == label_id:
                return label
        raise UnknownLabel(instance["id"], label_id)

    def _emit_chat_event(
        self, instance: dict[str, Any], event: str, label: dict[str, Any], chat_id: str
    ) -> None:
        payload = {"labelId": label["id"], "chatId": chat_id, "label": api_label(label)}
        self._emit(instance, event, payload)

    def _emit(self, instance: dict[str, Any], event: str, payload: dict[str, Any]) -> None:
        self._published = None  # every real change is announced: the snapshot is stale
        for listener in self._listeners:
            listener(instance, event, payload)


def _instance_state(instance: dict[str, Any]) -> InstanceState:
    labels = {label["id"]: api_label(label) for label in instance["labels"]}
    chats = {chat: tuple(ids) for chat, ids in instance["chats"].items()}
    return InstanceState(MappingProxyType(labels), MappingProxyType(chats))
