"""``chatlabels check --dialect waha --stateful``: the same model, WAHA's wire. The mock's WAHA
dialect agrees on each engine profile (webhooks included) and, treated as a live account,
is left as it was found; an independent WAHA server agrees; each broken one fails the
check that names its break."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import request

from chatlabels.cli import main
from chatlabels.kit.dialect import waha
from chatlabels.kit.target import Target
from chatlabels.mock.app import app_state
from chatlabels.mock.serving.server import MockServer
from tests.contract_tests.broken_targets import serving
from tests.contract_tests.broken_waha import API_KEY, CHAT
from tests.contract_tests.test_stateful import CHATS, TOKEN, fixture_with
from tests.contract_tests.waha_account import WAHA_ACCOUNT_BREAKAGES, waha_account_app
from tests.webhook_receiver import Receiver


def waha_args(url: str, key: str, *extra: str) -> list[str]:
    return [
        "check", "--dialect", "waha", "--stateful", "--allow-writes", "--base-url", url,
        "--session", "default", "--api-key", key, *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("engine", ["GOWS", "NOWEB", "WEBJS"])
def test_the_mocks_waha_dialect_agrees_on_each_engine(
    start_server: Callable[..., MockServer],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    engine: str,
) -> None:
    """Every call goes to /api/default/labels...; each engine lists a label's chats its own
    way (GOWS ``{"id"}``, NOWEB the ``@s.whatsapp.net`` JID, WEBJS a Wid object): the run
    judges which chats, and the form is left to ``label_lookups_agree``."""
    server = start_server(fixture_with(engine=engine, webhooks=[{"url": receiver.url}]))
    sent = record_requests(monkeypatch)
    argv = waha_args(server.url, TOKEN, "--seed", "5", "--max-examples", "8", "--steps", "15")
    assert main(argv) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "PASSED  stateful_model_agreement" in out
    assert "PASSED  stateful_webhook_agreement" in out and receiver.requests
    assert TOKEN not in out
    api_calls = [(method, path) for method, path in sent if not path.startswith("/__admin/")]
    assert all(path.startswith("/api/default/labels") for _, path in api_calls)
    assert {"POST", "PUT", "DELETE"} <= {method for method, _ in api_calls}


def record_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every (method, path) the kit sends from now on."""
    sent: list[tuple[str, str]] = []
    request = Target.request

    def recorded(self: Target, method: str, path: str, **options: Any) -> Any:
        sent.append((method, path))
        return request(self, method, path, **options)

    monkeypatch.setattr(Target, "request", recorded)
    return sent


def dump_waha(url: str, chats: list[str]) -> dict[str, Any]:
    """Every read WAHA offers, for a before/after comparison."""
    target = Target(url, instance_id="default", access_token=TOKEN, dialect=waha("default"))
    directory = target.directory().json
    return {
        "directory": directory,
        "members": {label["id"]: target.label_chats(label["id"]).json for label in directory},
        "chats": {chat: target.chat_labels(chat).json for chat in chats},
    }


def test_the_mocks_waha_dialect_as_a_live_account_is_restored(
    start_server: Callable[..., MockServer],
) -> None:
    """Behind an admin token the mock is a live account: the run writes through WAHA's calls
    only (labels it created deleted, names and colours put back, WAHA's same-name refusal
    side-stepped, the chats' labels replaced in their first order)."""
    server = start_server(fixture_with(engine="GOWS"), admin_token="admin-secret")
    before = dump_waha(server.url, CHATS)
    chat_args = [arg for chat in CHATS for arg in ("--chat-id", chat)]
    argv = waha_args(server.url, TOKEN, *chat_args, "--seed", "11", "--steps", "20")
    assert main([*argv, "--max-examples", "5"]) == 0
    writes = [e for e in app_state(server.app).control.journal.entries() if e["method"] != "GET"]
    assert {e["method"] for e in writes} == {"POST", "PUT", "DELETE"}
    assert all(e["path"].startswith("/api/default/labels") for e in writes)
    assert dump_waha(server.url, CHATS) == before


def test_an_independent_waha_server_agrees_and_is_restored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = waha_account_app("none")
    with serving(app) as url:
        argv = waha_args(url, API_KEY, "--chat-id", CHAT, "--seed", "3", "--steps", "15")
        assert main([*argv, "--max-examples", "5"]) == 0, capsys.readouterr().out
        out = capsys.readouterr().out
        # PASSED, not SKIPPED: the account accepted changes, and they were put back.
        assert "PASSED  stateful_restore" in out and API_KEY not in out
        target = Target(url, instance_id="default", access_token=API_KEY, dialect=waha("default"))
        assert [label["id"] for label in target.directory().json] == ["1", "2"]
        assert [label["id"] for label in target.chat_labels(CHAT).json] == ["2"]


@pytest.mark.parametrize("breakage", [b for b in WAHA_ACCOUNT_BREAKAGES if b != "none"], ids=str)
def test_a_broken_waha_server_fails_the_model_check(
    capsys: pytest.CaptureFixture[str], breakage: str
) -> None:
    """A live run deletes only labels it created, and puts each on a chat first: so a label
    left on its chats after a delete is caught here too."""
    with serving(waha_account_app(breakage)) as url:
        argv = waha_args(url, API_KEY, "--chat-id", CHAT, "--seed", "4", "--steps", "8")
        # The default --max-time (600 s): delete-keeps-links takes 35 s beside two busy
        # loops, and a run cut short ends "stopped", not failed.
        assert main([*argv, "--max-examples", "10"]) == 1
    out = capsys.readouterr().out
    assert "FAILED  stateful_model_agreement" in out, out
    assert "minimal failing sequence" in out and "--dialect waha --session default" in out
    assert API_KEY not in out


def test_restore_with_nothing_to_put_back_is_skipped_not_passed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Short runs on several seeds: ``stateful_restore`` is PASSED exactly when the
    account accepted a write of the run, and SKIPPED "nothing to judge" otherwise (a run of
    reads, or of refused writes, left nothing to restore); both kinds occur."""
    seen: dict[str, int] = {}
    for chosen_seed in range(6):
        app = waha_account_app("none")
        accepted: list[str] = []

        def count(response: Any, accepted: list[str] = accepted) -> Any:
            if request.method != "GET" and response.status_code < 300:
                accepted.append(request.path)
            return response

        app.after_request(count)
        with serving(app) as url:
            argv = waha_args(url, API_KEY, "--chat-id", CHAT, "--seed", str(chosen_seed))
            assert main([*argv, "--max-examples", "2", "--steps", "5"]) == 0
        out = capsys.readouterr().out
        verdict = "PASSED  stateful_restore" if accepted else "SKIPPED stateful_restore"
        assert verdict in out, (chosen_seed, accepted, out)
        if not accepted:
            assert "(nothing to judge: the account accepted no change" in out
        assert "PASSED  stateful_model_agreement" in out
        seen[verdict] = seen.get(verdict, 0) + 1
    assert len(seen) == 2, seen


def test_a_waha_server_is_not_written_to_without_allow_writes_or_a_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 2 with one line that says what to pass, and not one write sent."""
    monkeypatch.delenv("CHATLABELS_API_KEY", raising=False)
    app = waha_account_app("none")
    writes: list[str] = []
    app.before_request(lambda: None if request.method == "GET" else writes.append(request.path))  # type: ignore[arg-type,func-returns-value]
    with serving(app) as url:
        no_writes = [a for a in waha_args(url, API_KEY, "--chat-id", CHAT) if a != "--allow-writes"]
        assert main(no_writes) == 2
        assert "--allow-writes" in capsys.readouterr().err
        no_key = waha_args(url, "", "--chat-id", CHAT)
        assert main(no_key) == 2
        assert "no API key: pass --api-key or set CHATLABELS_API_KEY" in capsys.readouterr().err
    assert writes == []
