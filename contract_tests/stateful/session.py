"""What a stateful run talks to: the label calls of both dialects, the mock's control API,
and the snapshot/restore that makes writing to a live account safe.

``LabelsApi`` sends every call through the kit's ``Target`` (throttled, timed out, token
redacted in the record). ``Snapshot`` is the state the run starts every example from: the
label directory and, per label, its chats; ``restore`` puts a live account back to it
(deleting labels the run created, renaming and recolouring the ones it changed, re-linking
the chats it used in their first order, by one replace in WAHA's dialect) and says what it
could not put back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.kit.dialect import Dialect, waha
from chatlabels.kit.stateful.model import LabelModel
from chatlabels.kit.target import Exchange, QueryAuth, Target, path_segment

__all__ = [
    "AdminTokenNeeded",
    "LabelsApi",
    "Snapshot",
    "SnapshotFailed",
    "SnapshotShape",
    "chat_of",
    "restore",
    "take_snapshot",
]

_NO_CREDENTIALS = QueryAuth(None, None)


class AdminTokenNeeded(Exception):
    """The target is the mock, but its control API refuses calls without the admin token."""


@dataclass
class LabelsApi:
    """The calls the state machine drives, in the target's dialect (``target.dialect``).

    Against the provider dialect, ``session`` and ``api_key`` add WAHA's full replace beside
    it (the mock serves both dialects over one state); against a WAHA target the replace is
    the dialect's own way of linking, and there is no per-label link or label look-up.
    """

    target: Target
    session: str | None = None
    api_key: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)

    @property
    def dialect(self) -> Dialect:
        return self.target.dialect

    @property
    def has_side_waha(self) -> bool:
        """WAHA's calls beside a provider-dialect target (the mock's two dialects)."""
        return not self.dialect.is_waha and bool(self.session and self.api_key)

    @property
    def can_replace(self) -> bool:
        return self.dialect.is_waha or self.has_side_waha

    @property
    def can_link(self) -> bool:
        return self.dialect.link_path("1", "1") is not None

    @property
    def can_look_up(self) -> bool:
        return self.dialect.label_path("1") is not None

    # -- reads ------------------------------------------------------------------------------
    def directory(self) -> Exchange:
        return self.target.directory()

    def label(self, label_id: str) -> Exchange:
        answer = self.target.label(label_id)
        assert answer is not None, "no label look-up in this dialect: see can_look_up"
        return answer

    def chats_with(self, label_id: str) -> Exchange:
        return self.target.label_chats(label_id)

    def chat_labels(self, chat: str) -> Exchange:
        return self.target.chat_labels(chat)

    # -- writes -----------------------------------------------------------------------------
    def create(self, name: str, color: int) -> Exchange:
        body = {"name": name, "color": color}
        return self.target.request("POST", self.dialect.prefix, json_body=body)

    def update(self, label_id: str, name: str, color: int) -> Exchange:
        body = {"name": name, "color": color}
        return self.target.request("PUT", self._label_path(label_id), json_body=body)

    def delete(self, label_id: str) -> Exchange:
        return self.target.request("DELETE", self._label_path(label_id))

    def link(self, label_id: str, chat: str) -> Exchange:
        return self.target.request("PUT", self._link_path(label_id, chat))

    def unlink(self, label_id: str, chat: str) -> Exchange:
        return self.target.request("DELETE", self._link_path(label_id, chat))

    def replace(self, chat: str, label_ids: list[str]) -> Exchange:
        """WAHA's ``PUT .../labels/chats/{chatId}``: the chat ends with exactly these."""
        body = {"labels": [{"id": label_id} for label_id in label_ids]}
        if self.dialect.is_waha:
            path = self.dialect.chat_path(path_segment(chat))
            return self.target.request("PUT", path, json_body=body)
        return self._side_waha("PUT", "/chats/" + path_segment(chat), body)

    def side_waha_directory(self) -> Exchange:
        return self._side_waha("GET", "")

    def _label_path(self, label_id: str) -> str:
        return self.dialect.label_write_path(path_segment(label_id))

    def _link_path(self, label_id: str, chat: str) -> str:
        path = self.dialect.link_path(path_segment(label_id), path_segment(chat))
        assert path is not None, "no per-label link in this dialect: see can_link"
        return path

    def _side_waha(self, method: str, rest: str, body: Any = None) -> Exchange:
        path = waha(self.session or "").prefix + rest
        headers = {"X-Api-Key": self.api_key or ""}
        return self.target.request(
            method, path, json_body=body, headers=headers, credentials=_NO_CREDENTIALS
        )

    # -- the mock's control API -------------------------------------------------------------
    def admin(self, method: str, path: str, params: dict[str, str] | None = None) -> Exchange:
        headers = {"X-Admin-Token": self.admin_token} if self.admin_token else {}
        return self.target.request(
            method, "/__admin/" + path, params=params, headers=headers, credentials=_NO_CREDENTIALS
        )

    def is_mock(self) -> bool:
        """True when the target answers the mock's health check, i.e. writes are harmless;
        ``AdminTokenNeeded`` when it is the mock but its control API wants a token."""
        answer = self.admin("GET", "health")
        message = answer.json.get("message", "") if isinstance(answer.json, dict) else ""
        if answer.status in {401, 403} and "X-Admin-Token" in str(message):
            raise AdminTokenNeeded(str(message))
        return (
            answer.status == 200
            and isinstance(answer.json, dict)
            and (answer.json.get("status") == "ok")
        )

    def mock_instance(self) -> dict[str, Any]:
        """The instance of the mock's loaded fixture this run drives (by its id, or in
        WAHA's dialect by its session); ``{}`` when it cannot be read."""
        answer = self.admin("GET", "fixture")
        if answer.status != 200 or not isinstance(answer.json, dict):
            return {}
        key, wanted = (
            ("session", self.dialect.session)
            if self.dialect.is_waha
            else (
                "id",
                self.target.instance_id,
            )
        )
        for instance in answer.json.get("instances", []):
            if isinstance(instance, dict) and instance.get(key, "default") == wanted:
                return instance
        return {}


def chat_of(item: Any) -> str | None:
    """The canonical chat id of one entry of a label's chat list: ``{"id": "..."}`` (the
    provider, GOWS; NOWEB's ``@s.whatsapp.net`` JID is the same person), or whatsapp-web.js's
    ``{"id": {"_serialized": "..."}}`` (WEBJS). The stateful run judges which chats carry a
    label; the form they are listed in is ``label_lookups_agree``'s to judge."""
    chat_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(chat_id, dict):
        chat_id = chat_id.get("_serialized")
    if not isinstance(chat_id, str):
        return None
    return canonical_chat_id(chat_id) or chat_id


@dataclass
class Snapshot:
    """The state every example starts from, and a live run restores at the end.

    ``chats`` fills in as the run first uses a chat: its label ids, in order, before any
    change (so a live run records exactly the chats it touches).
    """

    labels: list[dict[str, Any]]
    members: dict[str, set[str]]
    chats: dict[str, list[str]] = field(default_factory=dict)

    def model(self) -> LabelModel:
        return LabelModel(
            labels={label["id"]: dict(label) for label in self.labels},
            others={label_id: set(chats) for label_id, chats in self.members.items()},
        )


class SnapshotFailed(Exception):
    """The target's starting state could not be read; ``str()`` says which call failed."""


class SnapshotShape(Exception):
    """The starting state was read but is not label-shaped: a finding, not a crash."""

    def __init__(self, answer: Exchange, pointer: str, expected: str, found: Any) -> None:
        super().__init__(f"{answer.request}: {pointer} is not {expected}")
        self.answer, self.pointer, self.expected, self.found = answer, pointer, expected, found


def take_snapshot(api: LabelsApi) -> Snapshot:
    """The label directory and, per label, the chats that carry it."""
    directory = api.directory()
    if directory.status != 200 or not isinstance(directory.json, list):
        raise SnapshotFailed(f"{directory.request} answered {directory.status}")
    labels = list(directory.json)
    for index, label in enumerate(labels):
        missing = [
            k for k in ("id", "name", "color") if not isinstance(label, dict) or k not in label
        ]
        if missing:
            raise SnapshotShape(directory, f"/{index}", "a label with id, name and color", label)
    members: dict[str, set[str]] = {}
    for label in labels:
        answer = api.chats_with(str(label.get("id")))
        if answer.status != 200 or not isinstance(answer.json, list):
            raise SnapshotFailed(f"{answer.request} answered {answer.status}")
        members[label["id"]] = {chat for chat in map(chat_of, answer.json) if chat}
    return Snapshot(labels=labels, members=members)


def restore(api: LabelsApi, snapshot: Snapshot) -> list[str]:
    """Put the labels and the recorded chats back as in ``snapshot``; what could not be."""
    problems: list[str] = []

    def call(answer: Exchange) -> None:
        if answer.status is None or not 200 <= answer.status < 300:
            problems.append(f"{answer.request} answered {answer.status or answer.error}")

    current = api.directory()
    now = _by_id(current.json) if current.status == 200 else {}
    before = _by_id(snapshot.labels)
    for label_id in now.keys() - before.keys():
        call(api.delete(label_id))
    for label_id, label in before.items():
        name, color = label.get("name"), label.get("color")
        if label_id not in now:
            problems.append(f"label {label_id} ({name!r}) is gone; ids cannot be reused")
        elif not (isinstance(name, str) and isinstance(color, int)):
            problems.append(f"label {label_id} was read as {label!r}: no name and color to restore")
        elif (now[label_id].get("name"), now[label_id].get("color")) != (name, color):
            if now[label_id].get("name") == name and api.dialect.may_refuse_own_name:
                # WAHA refuses an update that keeps the name: recolour under another name,
                # then take the name back (it is then no label's).
                call(api.update(label_id, f"chatlabels restoring {label_id}", color))
            call(api.update(label_id, name, color))
    for chat, wanted in snapshot.chats.items():
        answer = api.chat_labels(chat)
        if answer.status != 200 or not isinstance(answer.json, list):
            problems.append(f"{answer.request} answered {answer.status}; chat {chat} not restored")
            continue
        have = list(_by_id(answer.json))
        if not api.can_link:  # WAHA: one full replace puts the set and its order back
            if have != wanted:
                call(api.replace(chat, wanted))
            continue
        for label_id in [i for i in have if i not in wanted]:
            call(api.unlink(label_id, chat))
        kept = [i for i in have if i in wanted]
        if kept != wanted[: len(kept)]:  # order broken: re-link all in the first order
            for label_id in kept:
                call(api.unlink(label_id, chat))
            kept = []
        for label_id in wanted[len(kept) :]:
            call(api.link(label_id, chat))
    return problems + _differences(api, snapshot)


def _by_id(body: Any) -> dict[str, dict[str, Any]]:
    """The labels of a body by id, in order; entries without a string id are left out (the
    schema checks report them, restoring must not crash on them)."""
    items = body if isinstance(body, list) else []
    return {
        item["id"]: item
        for item in items
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _differences(api: LabelsApi, snapshot: Snapshot) -> list[str]:
    """What still differs from ``snapshot`` after restoring (GET everything it touched)."""
    found = []
    directory = api.directory()
    if directory.json != snapshot.labels:
        found.append(f"labels are {directory.json}, were {snapshot.labels}")
    for chat, wanted in snapshot.chats.items():
        answer = api.chat_labels(chat)
        have = [x.get("id") for x in answer.json] if isinstance(answer.json, list) else answer.json
        if have != wanted:
            found.append(f"chat {chat} has labels {have}, had {wanted}")
    return found
