"""`chatlabels record` against our own mock: the recorded file, served by a second mock,
answers every chat exactly as the recorded account did."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.cli import main
from chatlabels.kit.cli.record import PLACEHOLDER_TOKEN
from chatlabels.mock import load_fixture
from chatlabels.mock.app import app_state
from tests.conftest import FIXTURES_DIR, default_fixture_data

SECRET = "live-s3cret-token-4711"


def account(token: str = SECRET) -> dict[str, Any]:
    """The default account under a token that cannot be confused with anything else."""
    fixture = default_fixture_data()
    fixture["instances"][0]["token"] = token
    return fixture


def record(server: Any, out: Path, *extra: str, token: str = SECRET) -> int:
    instance_id = server.store.dump()["instances"][0]["id"]
    return main(
        ["record", "--base-url", server.url, "--instance-id", instance_id,
         "--access-token", token, "--out", str(out), *extra]
    )  # fmt: skip


def chats_of(fixture: dict[str, Any]) -> list[str]:
    return list(fixture["instances"][0]["chats"])


def answers(server: Any, token: str, chats: list[str]) -> dict[str, Any]:
    """What a client sees: the directory and each chat's labels."""
    instance_id = server.store.dump()["instances"][0]["id"]
    auth = {"instance_id": instance_id, "access_token": token}
    seen = {"/v2/labels": requests.get(server.url + "/v2/labels", params=auth, timeout=5).json()}
    for chat in [*chats, "5511900000009@c.us"]:
        url = f"{server.url}/v2/labels/chats/{chat}"
        seen[chat] = requests.get(url, params=auth, timeout=5).json()
    return seen


@pytest.mark.parametrize("name", ["default.json", "full-account.json", "multi-instance.json"])
def test_recorded_fixture_replays_the_account(start_server, tmp_path, capsys, name) -> None:
    live_fixture = json.loads((FIXTURES_DIR / name).read_text())
    token = live_fixture["instances"][0]["token"]
    live = start_server(live_fixture)
    out = tmp_path / "recorded.json"
    assert record(live, out, token=token) == 0
    assert "recorded" in capsys.readouterr().out
    replay = start_server(load_fixture(out))
    chats = chats_of(live.store.dump())
    assert answers(replay, PLACEHOLDER_TOKEN, chats) == answers(live, token, chats)


def test_token_is_never_written_nor_printed(start_server, tmp_path, capsys) -> None:
    out = tmp_path / "recorded.json"
    assert record(start_server(account()), out, "--chat-id", "5511999990000@c.us") == 0
    printed = capsys.readouterr()
    text = out.read_text()
    assert SECRET not in text + printed.out + printed.err
    recorded = json.loads(text)["instances"][0]
    assert recorded["token"] == PLACEHOLDER_TOKEN
    assert PLACEHOLDER_TOKEN in printed.out
    # a chat without labels is only known because it was asked for
    assert recorded["chats"]["5511999990000@c.us"] == []


def test_token_from_the_environment_and_own_placeholder(
    start_server, tmp_path, capsys, monkeypatch
) -> None:
    live = start_server(account())
    monkeypatch.setenv("CHATLABELS_ACCESS_TOKEN", SECRET)
    out = tmp_path / "recorded.json"
    code = main(
        ["record", "--base-url", live.url, "--instance-id", "123456789", "--out", str(out),
         "--placeholder", "ci-token"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert load_fixture(out)["instances"][0]["token"] == "ci-token"


def test_chats_per_label_not_served_falls_back_to_listed_chats(
    start_server, tmp_path, capsys
) -> None:
    """Where GET /v2/labels/{id}/chats is missing (404 or 405), --chat-id chats are recorded."""
    fixture = account()
    fixture["faults"] = [{"match": {"path": "/v2/labels/*/chats"}, "status": 405}]
    live = start_server(fixture)
    listed = ["5511988887777@c.us", "120363025246125486@g.us", "5511999990000@c.us"]
    chat_args = [arg for chat in listed for arg in ("--chat-id", chat)]
    out = tmp_path / "recorded.json"
    assert record(live, out, *chat_args) == 0
    assert "answered 405" in capsys.readouterr().out
    replay = start_server(load_fixture(out))
    assert chats_of(load_fixture(out)) == listed
    assert answers(replay, PLACEHOLDER_TOKEN, listed) == answers(live, SECRET, listed)


def test_documented_object_root_is_recorded_as_a_list(start_server, tmp_path) -> None:
    fixture = account()
    fixture["faults"] = [{"match": {"path": "/v2/labels"}, "object_root": True}]
    live = start_server(fixture)
    out = tmp_path / "recorded.json"
    assert record(live, out) == 0
    assert len(load_fixture(out)["instances"][0]["labels"]) == 9


@pytest.mark.parametrize(
    ("args", "token", "reason"),
    [
        ([], "wrong-token-0815", "GET /v2/labels answered 401 unauthorized"),
        (["--chat-id", "not a chat"], SECRET, "--chat-id 'not a chat' is not a chat id"),
    ],
)
def test_cannot_record_exits_2_with_the_reason(
    start_server, tmp_path, capsys, args, token, reason
) -> None:
    out = tmp_path / "recorded.json"
    assert record(start_server(account()), out, *args, token=token) == 2
    printed = capsys.readouterr()
    assert reason in printed.err
    assert token not in printed.out + printed.err
    assert not out.exists()


def test_unreachable_target_exits_2(tmp_path, capsys) -> None:
    code = main(
        ["record", "--base-url", "http://127.0.0.1:9", "--instance-id", "1",
         "--access-token", SECRET, "--out", str(tmp_path / "x.json")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach http://127.0.0.1:9" in err
    assert SECRET not in err


def test_requests_are_throttled_by_rate(start_server, tmp_path) -> None:
    """12 requests (directory, 9 labels' chats, the 2 chats with several labels) at 25/s
    cannot take less than 11/25 s."""
    live = start_server(account())
    started = time.monotonic()
    assert record(live, tmp_path / "recorded.json", "--rate", "25") == 0
    assert time.monotonic() - started >= 11 / 25
    paths = [entry["path"] for entry in app_state(live.app).control.journal.entries()]
    assert len(paths) == 12
    assert paths[-2:] == [
        "/v2/labels/chats/5511988887777@c.us", "/v2/labels/chats/120363025246125486@g.us",
    ]  # fmt: skip
