"""The rule-based state machine: each rule is one label call, judged against the model.

``machine_for`` binds the machine to a target (a class per run, because Hypothesis builds
a fresh instance for every example). Every example starts from the same state: the mock is
reset through ``/__admin/reset``; a live account is restored to the snapshot in teardown.
Each answer is judged by ``stateful_judge`` (kept apart so the rules read as calls); a
disagreement raises ``Disagreement`` carrying the kit's ``Finding``; Hypothesis then
shrinks the sequence, and ``steps_log`` holds the calls of the last (minimal) run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.labels import label_json
from chatlabels.contract.schemas import PALETTE
from chatlabels.kit.dialect import Dialect
from chatlabels.kit.judge import shown
from chatlabels.kit.stateful.judge import (
    AGREE,
    SCHEMA,
    WEBHOOKS,
    check_webhooks,
    describe_answer,
    expect_labels,
    expect_same,
    expect_schema,
    expect_status,
    fail,
    label_body,
)
from chatlabels.kit.stateful.model import EventGroup, LabelModel
from chatlabels.kit.stateful.session import LabelsApi, Snapshot, chat_of, restore
from chatlabels.kit.strategies import valid_chat_ids
from chatlabels.kit.target import Exchange

__all__ = ["LabelsMachine", "Steps", "machine_for"]

OPERATION_COMPLETED = {"success": True, "message": "Operation completed successfully"}

NAMES = (
    st.text(st.characters(categories=["L", "Nd"]) | st.sampled_from(" -&"), max_size=24)
    .map(str.strip)
    .filter(bool)
)
COLORS = st.integers(0, len(PALETTE) - 1)


@dataclass
class Steps:
    """The calls of the current example, one line per rule and per request; ``judged`` the
    checks that judged at least one answer in the whole run (the others had nothing to)."""

    lines: list[str] = field(default_factory=list)
    judged: set[str] = field(default_factory=set)


class LabelsMachine(RuleBasedStateMachine):
    """Label lifecycle calls against a target, held to ``LabelModel`` after every step."""

    labels = Bundle("labels")
    created = Bundle("created")
    chats = Bundle("chats")

    api: ClassVar[LabelsApi]
    dialect: ClassVar[Dialect]
    instance_id: ClassVar[str]
    snapshot: ClassVar[Snapshot]
    mock: ClassVar[bool]
    known_chats: ClassVar[list[str]]
    webhooks: ClassVar[list[dict[str, Any]]]
    steps_log: ClassVar[Steps]

    def __init__(self) -> None:
        super().__init__()
        self.steps_log.lines.clear()
        if self.mock:
            self._send(self.api.admin("POST", "reset"))
        self.model: LabelModel = self.snapshot.model()
        self.expected: list[EventGroup] = []
        #: Chats the last step wrote to: read back by the invariant after the step.
        self.touched: set[str] = set()
        #: Every chat the sequence has used: all read back after a delete, so a label left
        #: on a chat (or taken off the wrong one) shows whatever the seed.
        self.used: set[str] = set()

    # -- set-up -----------------------------------------------------------------------------
    @initialize(target=labels)
    def existing_labels(self) -> Any:
        return multiple(*self.model.labels)

    @initialize(target=chats)
    def existing_chats(self) -> Any:
        for chat in self.known_chats:
            self._tracked(chat)
        return multiple(*self.known_chats)

    @precondition(lambda self: self.mock)
    @rule(target=chats, chat=valid_chat_ids())
    def new_chat(self, chat: str) -> str:
        self._step("new_chat", chat=chat)
        self._tracked(chat)
        return chat

    # -- writes -----------------------------------------------------------------------------
    @rule(targets=(labels, created), name=NAMES, color=COLORS)
    def create_label(self, name: str, color: int) -> Any:
        self._step("create_label", name=name, color=color)
        answer = self._send(self.api.create(name, color))
        if not self.model.can_create():
            expect_status(answer, {self.dialect.full_status}, "the account already has 20 labels")
            return multiple()
        if (owner := self.model.name_owner(name)) is not None:
            expect_status(answer, {422}, f"label {owner} already has the name")
            return multiple()
        expect_status(answer, set(self.dialect.created_statuses), "a new label")
        body = label_body(answer)
        label_id = body.get("id")
        if not isinstance(label_id, str) or label_id in self.model.labels:
            fail(AGREE, answer, "/id", "a new label id", shown(label_id))
        expect_same(answer, "", label_json(label_id, name, color), body)
        self._events(self.model.create(label_id, name, color))
        return label_id

    @rule(label=labels, name=NAMES, color=COLORS)
    def update_label(self, label: str, name: str, color: int) -> None:
        self._step("update_label", label=label, name=name, color=color)
        answer = self._send(self.api.update(label, name, color))
        if self._missing(answer, label):
            return
        owner = self.model.name_owner(name)
        if owner not in {None, label}:
            expect_status(answer, {422}, f"label {owner} already has the name")
            return
        if owner == label and self.dialect.may_refuse_own_name:
            # WAHA's same-name bug (422 with the label's own id); a fixed WAHA answers 200.
            expect_status(answer, {200, 422}, "the label, or WAHA's refusal of its own name")
            if answer.status == 422:
                return
        expect_status(answer, {200}, "the updated label")
        expect_same(answer, "", label_json(label, name, color), label_body(answer))
        self._events(self.model.update(label, name, color))

    @precondition(lambda self: self.mock)
    @rule(label=labels)
    def delete_label(self, label: str) -> None:
        self._delete(label)

    @precondition(lambda self: not self.mock)
    @rule(label=created, chat=chats)
    def delete_created_label(self, label: str, chat: str) -> None:
        """A live account's own labels are never deleted (a new one would get a new id). So
        that a live run still deletes labels that chats carry, whatever the seed, a created
        label no chat carries is first put on ``chat`` (a link, or WAHA's replace)."""
        if label in self.model.labels and not self.model.chats_with(label):
            if self.api.can_link:
                self._change_link("link", label, chat)
            else:
                current = self.model.chats.get(self._tracked(chat), [])
                self.replace_chat_labels(chat, [*current, label])
        self._delete(label)

    @precondition(lambda self: self.api.can_link)
    @rule(label=labels, chat=chats)
    def link(self, label: str, chat: str) -> None:
        self._change_link("link", label, chat)

    @precondition(lambda self: self.api.can_link)
    @rule(label=labels, chat=chats)
    def unlink(self, label: str, chat: str) -> None:
        self._change_link("unlink", label, chat)

    @precondition(lambda self: self.api.can_replace)
    @rule(chat=chats, wanted=st.lists(labels, max_size=4))
    def replace_chat_labels(self, chat: str, wanted: list[str]) -> None:
        if self.dialect.is_waha:
            # WAHA hands unknown ids to its engine (WEBJS drops them, NOWEB sends them on):
            # no contract to hold a WAHA target to, so none is sent. The mock's WAHA dialect
            # beside the provider's refuses them, and is held to that.
            wanted = [label for label in wanted if label in self.model.labels]
        self._step("replace_chat_labels", chat=chat, labels=wanted)
        canonical = self._tracked(chat)
        answer = self._send(self.api.replace(chat, wanted))
        if not set(wanted) <= set(self.model.labels):
            # Unknown ids: refused as a whole; the reads that follow prove nothing changed.
            expect_status(answer, set(range(400, 500)), "a 4xx for an unknown label id")
            return
        expect_status(answer, set(range(200, 300)), "the chat's labels replaced")
        self._events(self.model.replace(canonical, wanted))
        self.touched.add(canonical)

    @precondition(lambda self: self.mock)
    @rule()
    def reset(self) -> None:
        self._step("reset")
        expect_status(self._send(self.api.admin("POST", "reset")), {200}, "reset done")
        self.model, self.expected = self.snapshot.model(), []

    # -- reads ------------------------------------------------------------------------------
    @rule(chat=chats)
    def get_chat_labels(self, chat: str) -> None:
        self._step("get_chat_labels", chat=chat)
        canonical = self._tracked(chat)
        answer = self._send(self.api.chat_labels(chat))
        expect_labels(answer, self.model.chat_labels(canonical))

    @rule()
    def get_all_labels(self) -> None:
        self._step("get_all_labels")
        expect_labels(self._send(self.api.directory()), self.model.directory(), "labels")

    @precondition(lambda self: self.api.can_look_up)
    @rule(label=labels)
    def get_label(self, label: str) -> None:
        self._step("get_label", label=label)
        answer = self._send(self.api.label(label))
        if not self._missing(answer, label):
            expect_status(answer, {200}, "the label")
            expect_same(answer, "", self.model.label(label), label_body(answer))

    @rule(label=labels)
    def get_chats_with_label(self, label: str) -> None:
        if self.dialect.is_waha and label not in self.model.labels:
            # WAHA leaves an unknown label's chats to its engine (WEBJS 500, NOWEB/GOWS []).
            return
        self._step("get_chats_with_label", label=label)
        answer = self._send(self.api.chats_with(label))
        if self._missing(answer, label):
            return
        expect_status(answer, {200}, "the chats with the label")
        items = answer.json if isinstance(answer.json, list) else []
        found = sorted(chat for chat in map(chat_of, items) if chat)
        if not isinstance(answer.json, list) or len(found) != len(items):
            fail(SCHEMA, answer, "", 'a JSON array of {"id": chat}', describe_answer(answer))
        # The contract orders a chat's labels, not a label's chats: compared as a set.
        expect_same(answer, "", sorted(self.model.chats_with(label)), found)

    # -- after every step -------------------------------------------------------------------
    @invariant()
    def target_agrees_with_model(self) -> None:
        assert not self.model.problems(), f"the model broke: {self.model.problems()}"
        self.steps_log.judged |= {AGREE, SCHEMA}  # the directory is read and compared
        expect_labels(self.api.directory(), self.model.directory(), "labels")
        for chat in sorted(self.touched):
            if chat in self.model.chats:
                expect_labels(self.api.chat_labels(chat), self.model.chat_labels(chat))
            else:  # a deleted label's untracked chat: its order is first read now
                self._tracked(chat)
        self.used |= self.touched
        self.touched.clear()
        if self.webhooks:
            self.steps_log.judged.add(WEBHOOKS)
            check_webhooks(self.api, self.instance_id, self.webhooks, self.expected)

    def teardown(self) -> None:
        if self.webhooks:
            self._sentinel_change()
        if not self.mock:
            restore(self.api, self.snapshot)

    # -- helpers ----------------------------------------------------------------------------
    def _delete(self, label: str) -> None:
        self._step("delete_label", label=label)
        answer = self._send(self.api.delete(label))
        if self._missing(answer, label):
            return
        expect_status(answer, {200}, "the label deleted")
        if (body := self.dialect.deleted_body) is not None:
            expect_same(answer, "", body, answer.json)
        self.touched |= self.model.chats_with(label) | self.used
        self._events(self.model.delete(label))

    def _change_link(self, how: str, label: str, chat: str) -> None:
        self._step(how, label=label, chat=chat)
        canonical = self._tracked(chat)
        answer = self._send((self.api.link if how == "link" else self.api.unlink)(label, chat))
        if self._missing(answer, label):
            return
        expect_status(answer, {200}, f"{how} done (idempotent)")
        expect_same(answer, "", OPERATION_COMPLETED, answer.json)
        change = self.model.link if how == "link" else self.model.unlink
        self._events(change(label, canonical))
        self.touched.add(canonical)

    def _tracked(self, chat: str) -> str:
        """The canonical id of ``chat``, read from the target the first time it is used."""
        canonical = canonical_chat_id(chat) or chat
        if canonical in self.model.chats:
            return canonical
        answer = self._send(self.api.chat_labels(chat))
        expect_status(answer, {200}, "the chat's labels")
        expect_schema(answer, "chat-labels")
        ids = [label.get("id") for label in answer.json]
        expected = self.model.untracked_labels_of(canonical)
        expect_same(answer, "", sorted(expected), sorted(ids))
        expect_same(answer, "", [self.model.label(i) for i in ids], answer.json)
        self.model.track(canonical, ids)
        self.snapshot.chats.setdefault(canonical, ids)
        return canonical

    def _sentinel_change(self) -> None:
        """A last real change, so an event wrongly fired by the final step shows up
        before it (deliveries keep order) instead of being missed at the end."""
        self._step("sentinel_change")
        label = next(iter(self.model.labels.values()), None)
        if label is None:
            answer = self._send(self.api.create("sentinel", 0))
            if answer.status in {200, 201} and isinstance(answer.json, dict):
                self._events(self.model.create(str(answer.json.get("id")), "sentinel", 0))
        else:
            name = "sentinel" if label["name"] != "sentinel" else "sentinel 2"
            self._send(self.api.update(label["id"], name, label["color"]))
            self._events(self.model.update(label["id"], name, label["color"]))
        check_webhooks(self.api, self.instance_id, self.webhooks, self.expected)

    def _events(self, groups: list[EventGroup]) -> None:
        self.expected.extend(groups)
        self.steps_log.lines.append(
            "    events: " + (", ".join(e for g in groups for e, _ in g) or "none")
        )

    def _missing(self, answer: Exchange, label: str) -> bool:
        """True (after judging the 404) when the model has no such label."""
        if label in self.model.labels:
            return False
        expect_status(answer, {404}, f"label {label} does not exist")
        return True

    def _step(self, rule_name: str, /, **args: Any) -> None:
        shown_args = ", ".join(f"{key}={value!r}" for key, value in args.items())
        self.steps_log.lines.append(f"{rule_name}({shown_args})")

    def _send(self, answer: Exchange) -> Exchange:
        """Log a call whose answer the calling rule judges against the model."""
        self.steps_log.lines.append(f"    {answer.request} -> {answer.status or answer.error}")
        self.steps_log.judged.add(AGREE)
        return answer


def machine_for(
    api: LabelsApi,
    snapshot: Snapshot,
    *,
    mock: bool,
    chats: list[str],
    webhooks: list[dict[str, Any]],
    instance_id: str = "",
) -> type[LabelsMachine]:
    """A machine class bound to one target; on the mock, every example starts from a reset
    (``instance_id`` names the mock's instance whose webhook log is read).

    A live run only touches ``chats``; on the mock the snapshot's chats are used too, and
    new chat ids are drawn from ``strategies.valid_chat_ids()``.
    """
    known = list(chats) if not mock else sorted({*chats, *_snapshot_chats(snapshot)})[:4]
    attributes = {
        "api": api,
        "dialect": api.dialect,
        "instance_id": instance_id,
        "snapshot": snapshot,
        "mock": mock,
        "known_chats": known,
        "webhooks": webhooks,
        "steps_log": Steps(),
    }
    return type("LabelsMachineRun", (LabelsMachine,), attributes)


def _snapshot_chats(snapshot: Snapshot) -> set[str]:
    return {chat for members in snapshot.members.values() for chat in members}
