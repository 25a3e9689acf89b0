"""``Target`` (throttling, redaction, path encoding) and the reusable strategies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask, redirect, request
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.cli import main
from chatlabels.contract.chat_ids import MAX_DIGITS, is_chat_id
from chatlabels.kit import strategies as cs
from chatlabels.kit.target import QueryAuth, Target, path_segment
from tests.contract_tests.broken_targets import CHAT, INSTANCE_ID, TOKEN, broken_app, serving


def mock_target(server: Any, **options: Any) -> Target:
    return Target(server.url, instance_id="123456789", access_token="123456789", **options)


def test_every_recorded_request_has_the_token_redacted(default_server: Any) -> None:
    target = mock_target(default_server)
    target.chat_labels("5511988887777@c.us")
    target.chat_labels("5511988887777@c.us", credentials=QueryAuth("123456789", "other-token"))
    for exchange in target.exchanges:
        assert dict(exchange.request.query)["access_token"] == "[redacted]"
        assert "access_token=[redacted]" in str(exchange.request)
    assert "access_token" not in repr(target)


def test_rate_spaces_requests(default_server: Any) -> None:
    target = mock_target(default_server, rate=20)
    started = time.monotonic()
    for _ in range(5):
        target.directory()
    assert time.monotonic() - started >= 4 / 20 * 0.9


def test_path_segment_keeps_traversal_inside_one_segment() -> None:
    assert path_segment("..") == "%2E%2E"
    assert path_segment("../labels") == "..%2Flabels"
    assert path_segment("1@c.us") == "1%40c.us"
    assert path_segment("1@c.us", raw_at=True) == "1@c.us"


def grammar_says_chat_id(raw: str) -> bool:
    """The contract's section 4 restated without chat_ids.py's regex: an independent oracle."""

    def digits(part: str) -> bool:
        return 1 <= len(part) <= MAX_DIGITS and all(c in "0123456789" for c in part)

    if raw == "status@broadcast":
        return True
    local, at, suffix = raw.partition("@")
    if not at:
        return digits(raw)
    if suffix in {"c.us", "s.whatsapp.net", "lid", "newsletter"}:
        return digits(local)
    if suffix == "g.us":
        parts = local.split("-")
        return len(parts) <= 2 and all(digits(part) for part in parts)
    return False


#: Near misses of every form: valid ids with one character changed, added or removed.
_near_misses = st.tuples(
    cs.valid_chat_ids(), st.integers(0, 40), st.sampled_from(["", "@", "-", "0", " ", ".", "a"])
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])


@given(cs.valid_chat_ids())
def test_valid_chat_ids_are_chat_ids(chat_id: str) -> None:
    assert grammar_says_chat_id(chat_id) and is_chat_id(chat_id)


@given(st.one_of(*cs.INVALID_KINDS.values()))
def test_every_invalid_kind_is_invalid_by_the_grammar_not_by_a_filter(chat_id: str) -> None:
    """Drawn from the kinds themselves, without invalid_chat_ids()'s safety filter: a kind
    that can produce a valid id fails here."""
    note(f"candidate: {chat_id!r}")
    assert not grammar_says_chat_id(chat_id)
    assert not is_chat_id(chat_id)


@given(st.one_of(_near_misses, st.text(max_size=40), cs.valid_chat_ids()))
def test_is_chat_id_agrees_with_the_grammar_on_any_string(candidate: str) -> None:
    note(f"candidate: {candidate!r}")
    assert is_chat_id(candidate) == grammar_says_chat_id(candidate)


@given(cs.tokens())
def test_tokens_are_url_safe(token: str) -> None:
    assert 12 <= len(token) <= 40 and path_segment(token) == token


def test_a_redirect_is_judged_not_followed_and_the_token_stays_home(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A target answering 302 to elsewhere (here a correct stub that records the tokens it
    gets): the kit must not follow it, so the token never leaves, and a base URL that only
    redirects is refused as not the API (exit 2)."""
    elsewhere = broken_app("none")
    tokens_received: list[str] = []

    @elsewhere.before_request
    def record() -> None:
        tokens_received.extend(request.args.getlist("access_token"))
        tokens_received.extend(request.headers.getlist("access-token"))

    with serving(elsewhere) as elsewhere_url:
        redirector = Flask("redirector")

        @redirector.get("/<path:anything>")
        def away(anything: str) -> Any:
            return redirect(elsewhere_url + request.full_path, code=302)

        with serving(redirector) as url:
            exchange = Target(url, instance_id=INSTANCE_ID, access_token=TOKEN).chat_labels(CHAT)
            args = ["--instance-id", INSTANCE_ID, "--access-token", TOKEN, "--chat-id", CHAT]
            code = main(["check", "--base-url", url, *args, "--max-examples", "3"])
    assert exchange.status == 302
    assert tokens_received == []
    assert code == 2
    assert "answered 302" in capsys.readouterr().err
