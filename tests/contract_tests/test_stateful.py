"""The stateful model test against the real mock over sockets: it agrees with a correct mock
(webhooks included), catches a mock broken on purpose, refuses to write to a target that is
not the mock, and leaves a "live" target as it found it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from chatlabels.cli import main
from chatlabels.kit.stateful.run import StatefulOptions, run_stateful
from chatlabels.kit.stateful.session import LabelsApi, restore, take_snapshot
from chatlabels.kit.target import Target
from chatlabels.mock.app import app_state
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data
from tests.webhook_receiver import Receiver

TOKEN = "tok-St4teful-Zq81xW"  # distinctive: must never appear in any output
INSTANCE = "123456789"
SMALL_LABELS = [{"id": "1", "name": "Lead", "color": 0}, {"id": "2", "name": "VIP", "color": 2}]
CHATS = ["5511988887777@c.us", "120363025246125486@g.us", "5511999990000@c.us"]


def fixture_with(**instance: Any) -> dict[str, Any]:
    data = default_fixture_data()
    data["instances"][0].update(token=TOKEN, **instance)
    return data


def stateful_args(server: MockServer, *extra: str) -> list[str]:
    return [
        "check",
        "--stateful",
        "--base-url",
        server.url,
        "--instance-id",
        INSTANCE,
        "--access-token",
        TOKEN,
        *extra,
    ]


def test_machine_agrees_with_the_mock_and_its_webhooks(
    start_server: Callable[..., MockServer], receiver: Receiver
) -> None:
    """Random sequences over both dialects, webhooks checked after every step, all agree."""
    hooks = [
        {"url": f"{receiver.url}/all", "events": ["*"]},
        {"url": f"{receiver.url}/links", "events": ["label.chat.added", "label.chat.deleted"]},
    ]
    server = start_server(fixture_with(webhooks=hooks))
    options = StatefulOptions(
        server.url, INSTANCE, TOKEN, session="default", api_key=TOKEN, max_examples=6, steps=25
    )
    report = run_stateful(options)
    assert report.findings == [], "\n".join(f.describe() for f in report.findings)
    assert report.exit_code == 0
    assert receiver.requests  # webhooks were fired and checked, not skipped
    assert report.requests_sent > 6 * 25


def test_check_stateful_against_the_mock_passes(
    start_server: Callable[..., MockServer], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(fixture_with())
    argv = stateful_args(server, "--session", "default", "--api-key", TOKEN, "--seed", "7")
    assert main([*argv, "--max-examples", "5", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "PASSED  stateful_model_agreement" in out
    assert TOKEN not in out


def test_refuses_to_write_to_a_target_without_the_control_api(
    start_server: Callable[..., MockServer], capsys: pytest.CaptureFixture[str]
) -> None:
    """/__admin/ hidden behind a token and no --admin-token: the kit says what to pass, and
    writes nothing."""
    server = start_server(fixture_with(), admin_token="admin-secret")
    journal = app_state(server.app).control.journal
    assert main(stateful_args(server, "--chat-id", CHATS[0])) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--admin-token" in err and "--allow-writes" in err and TOKEN not in err
    assert not [e for e in journal.entries() if e["method"] != "GET"]


def test_a_refused_admin_token_is_called_refused(
    start_server: Callable[..., MockServer], capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong --admin-token: the kit says the token was refused (not "pass --admin-token",
    which was passed), never echoes it, and writes nothing."""
    server = start_server(fixture_with(), admin_token="admin-secret")
    journal = app_state(server.app).control.journal
    args = stateful_args(server, "--chat-id", CHATS[0], "--admin-token", "wrong-admin-token")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "refused the --admin-token" in err and "--allow-writes" in err
    assert "wrong-admin-token" not in err and "admin-secret" not in err
    assert not [e for e in journal.entries() if e["method"] != "GET"]


# Mocks broken on purpose, through the store's and the dispatcher's public methods only:
# each returns the store methods to replace. State added by a breakage is forgotten on reset,
# so every example of the run starts from the same state.
Breakage = Callable[[MockServer], dict[str, Callable[..., Any]]]


def _link_not_idempotent(server: MockServer) -> dict[str, Callable[..., Any]]:
    """Linking an already linked label lists it twice on the chat from then on."""
    store = server.store
    link, chat_labels, reset = store.link, store.chat_labels, store.reset
    doubled: set[tuple[str, str, str]] = set()

    def broken_link(instance_id: str, label_id: str, chat_id: str) -> bool:
        if not link(instance_id, label_id, chat_id):
            doubled.add((instance_id, label_id, chat_id))
        return True

    def broken_chat_labels(instance_id: str, chat_id: str) -> list[dict[str, Any]]:
        labels = chat_labels(instance_id, chat_id)
        return labels + [x for x in labels if (instance_id, x["id"], chat_id) in doubled]

    def broken_reset() -> None:
        doubled.clear()
        reset()

    return {"link": broken_link, "chat_labels": broken_chat_labels, "reset": broken_reset}


def _delete_keeps_links(server: MockServer) -> dict[str, Callable[..., Any]]:
    """A deleted label stays on the chats it was linked to."""
    store = server.store
    delete_label, chat_labels, reset = store.delete_label, store.chat_labels, store.reset
    ghosts: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def broken_delete(instance_id: str, label_id: str) -> dict[str, Any]:
        chats = [chat["id"] for chat in store.chats_with_label(instance_id, label_id)]
        deleted = delete_label(instance_id, label_id)
        for chat in chats:
            ghosts.setdefault((instance_id, chat), []).append(deleted)
        return deleted

    def broken_chat_labels(instance_id: str, chat_id: str) -> list[dict[str, Any]]:
        return chat_labels(instance_id, chat_id) + ghosts.get((instance_id, chat_id), [])

    def broken_reset() -> None:
        ghosts.clear()
        reset()

    return {"delete_label": broken_delete, "chat_labels": broken_chat_labels, "reset": broken_reset}


def _relink_fires_again(server: MockServer) -> dict[str, Callable[..., Any]]:
    """Linking an already linked label announces ``label.chat.added`` again."""
    store, webhooks = server.store, app_state(server.app).control.webhooks
    link = store.link

    def broken_link(instance_id: str, label_id: str, chat_id: str) -> bool:
        if not link(instance_id, label_id, chat_id):
            [instance] = [i for i in store.dump()["instances"] if i["id"] == instance_id]
            payload = {"labelId": label_id, "chatId": chat_id}
            payload["label"] = store.label(instance_id, label_id)
            webhooks.on_store_event(instance, "label.chat.added", payload)
        return True

    return {"link": broken_link}


@pytest.mark.parametrize(
    ("breakage", "check"),
    [
        (_link_not_idempotent, "stateful_schema_conformance"),
        (_delete_keeps_links, "stateful_model_agreement"),
        (_relink_fires_again, "stateful_webhook_agreement"),
    ],
    ids=["link-not-idempotent", "delete-keeps-links", "event-on-no-op"],
)
def test_a_broken_mock_is_caught_with_a_minimal_sequence(
    start_server: Callable[..., MockServer],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    breakage: Breakage,
    check: str,
) -> None:
    # Webhooks only where the breakage is about them: each check costs a wait per step.
    hooks = [{"url": receiver.url}] if check == "stateful_webhook_agreement" else []
    # A small account, so random sequences hit the same label and chat again soon.
    small = {"labels": SMALL_LABELS, "chats": {CHATS[0]: ["2"]}, "webhooks": hooks}
    # The breakages replace Store methods; the fast path reads the published snapshot
    # instead, so it is off here and every read goes through the (broken) methods.
    server = start_server(fixture_with(**small), fast_path=False)
    for method, replacement in breakage(server).items():
        monkeypatch.setattr(server.store, method, replacement)
    argv = stateful_args(server, "--seed", "3", "--max-examples", "30", "--steps", "8")
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"FAILED  {check}" in out
    assert "minimal failing sequence" in out and "--seed 3" in out
    assert TOKEN not in out and "access_token=[redacted]" in out


def dump_everything(api: LabelsApi, chats: list[str]) -> dict[str, Any]:
    """Every read the API offers, for a before/after comparison."""
    directory = api.directory().json
    return {
        "directory": directory,
        "labels": {label["id"]: api.label(label["id"]).json for label in directory},
        "members": {label["id"]: api.chats_with(label["id"]).json for label in directory},
        "chats": {chat: api.chat_labels(chat).json for chat in chats},
    }


def test_allow_writes_against_a_live_target_restores_what_it_changed(
    start_server: Callable[..., MockServer],
) -> None:
    server = start_server(fixture_with(), admin_token="admin-secret")
    api = LabelsApi(Target(server.url, instance_id=INSTANCE, access_token=TOKEN))
    before = dump_everything(api, CHATS)
    chat_args = [arg for chat in CHATS for arg in ("--chat-id", chat)]
    argv = stateful_args(server, "--allow-writes", *chat_args, "--seed", "11", "--steps", "20")
    assert main([*argv, "--max-examples", "6"]) == 0
    writes = [e for e in app_state(server.app).control.journal.entries() if e["method"] != "GET"]
    assert writes, "the run wrote nothing: the restore was not exercised"
    assert dump_everything(api, CHATS) == before


def test_restore_reports_what_it_could_not_put_back(
    start_server: Callable[..., MockServer],
) -> None:
    server = start_server(fixture_with())
    api = LabelsApi(Target(server.url, instance_id=INSTANCE, access_token=TOKEN))
    snapshot = take_snapshot(api)
    created = api.create("left behind", 3).json["id"]
    api.delete("1")  # a live label deleted cannot come back with its id
    app_state(server.app).control.faults.add(
        [{"match": {"method": "DELETE", "path": f"/v2/labels/{created}"}, "status": 500}]
    )
    problems = restore(api, snapshot)
    assert any(f"/v2/labels/{created}" in p and "500" in p for p in problems)
    assert any("label 1 ('New Customer') is gone" in p for p in problems)


@pytest.mark.parametrize("chosen_seed", [1, 2, 3, 5, 8, 13])
def test_a_label_deleted_while_on_chats_is_caught_on_every_seed(
    start_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch, chosen_seed: int
) -> None:
    """A target that deletes a label from the directory but leaves it on its chats fails
    ``stateful_model_agreement`` whatever the seed: after a delete, every chat the sequence
    has used is read back (it used to be caught only when a later step happened to read
    the right chat)."""
    small = {"labels": SMALL_LABELS, "chats": {CHATS[0]: ["2"], CHATS[1]: ["1", "2"]}}
    server = start_server(fixture_with(**small), fast_path=False)
    for method, replacement in _delete_keeps_links(server).items():
        monkeypatch.setattr(server.store, method, replacement)
    # The default --max-time (600 s): seed 5 takes 7 s here, 25 s beside two busy loops,
    # and went past the 60 s this test used to allow on a loaded CI machine.
    options = StatefulOptions(
        server.url, INSTANCE, TOKEN, max_examples=30, steps=8, seed=chosen_seed
    )
    report = run_stateful(options)
    assert report.stopped is None
    [finding] = report.findings
    assert finding.check == "stateful_model_agreement", finding.describe()
    assert "delete_label" in finding.note and f"--seed {chosen_seed}" in finding.note


def test_max_time_ending_the_search_is_a_stop_not_a_flaky_target(
    start_server: Callable[..., MockServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--max-time passing midway through an example makes its replay differ, which
    Hypothesis calls flaky: the run must end as stopped by --max-time (partial), not with
    a finding that the target is flaky (what a loaded machine showed). The deadline is
    moved to the past at the 300th request, in the middle of the search for seed 5."""
    small = {"labels": SMALL_LABELS, "chats": {CHATS[0]: ["2"], CHATS[1]: ["1", "2"]}}
    server = start_server(fixture_with(**small), fast_path=False)
    for method, replacement in _delete_keeps_links(server).items():
        monkeypatch.setattr(server.store, method, replacement)
    send, sent = Target._send, [0]

    def send_until_out_of_time(self: Target, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        if sent[0] == 300:
            self.deadline = time.monotonic() - 1
        return send(self, *args, **kwargs)

    monkeypatch.setattr(Target, "_send", send_until_out_of_time)
    options = StatefulOptions(server.url, INSTANCE, TOKEN, max_examples=30, steps=8, seed=5)
    report = run_stateful(options)
    assert sent[0] == 300 and report.stopped == "--max-time reached"
    assert not any("flaky" in finding.found for finding in report.findings), report.findings
