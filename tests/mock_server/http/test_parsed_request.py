"""The one parse of a request: what every layer (rate limits, faults, journal, log, views)
reads, so they cannot disagree."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.mock import Store, create_app
from chatlabels.mock.http.parsed_request import ParsedRequest, Repeated, parse_request
from tests.conftest import default_fixture_data

CHAT = "5511988887777@c.us"


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(Store(parse_fixture(default_fixture_data())))


def parse(app: Flask, path: str, **context: Any) -> ParsedRequest:
    with app.test_request_context(path, **context) as ctx:
        ctx.match_request()
        store = Store(parse_fixture(default_fixture_data()))
        return parse_request(store, ctx.request, view_args=ctx.request.view_args)


@pytest.mark.parametrize(
    "spelling", [CHAT, "5511988887777%40c.us", "5511988887777", "5511988887777@s.whatsapp.net"]
)
def test_every_spelling_of_a_chat_parses_to_the_canonical_chat_in_both_dialects(
    app: Flask, spelling: str
) -> None:
    provider = parse(app, f"/v2/labels/chats/{spelling}?instance_id=123456789&access_token=x")
    waha = parse(app, f"/api/default/labels/chats/{spelling}")
    assert (provider.dialect, provider.chat) == ("provider", CHAT)
    assert (waha.dialect, waha.chat, waha.session) == ("waha", CHAT, "default")


def test_the_provider_token_is_compared_once_and_never_shown(app: Flask) -> None:
    right = parse(app, "/v2/labels?instance_id=123456789&access_token=123456789")
    assert right.caller.matched and right.counted_instance == "123456789"
    assert "123456789&" not in repr(right) and "access_token" not in repr(right)
    wrong = parse(app, "/v2/labels?instance_id=123456789&access_token=nope")
    assert not wrong.caller.matched and wrong.counted_instance is None
    assert wrong.instance_id == "123456789"  # the journal files it under the instance named


def test_a_query_token_and_a_different_header_token_conflict_the_query_one_is_judged(
    app: Flask,
) -> None:
    parsed = parse(
        app,
        "/v2/labels?instance_id=123456789&access_token=123456789",
        headers={"access-token": "other"},
    )
    assert parsed.caller.conflicting and parsed.caller.matched


def test_repeated_parameters_are_recorded_not_guessed(app: Flask) -> None:
    parsed = parse(app, "/v2/labels/chats/1?instance_id=a&instance_id=b&chatId=1&chatId=2")
    assert parsed.instance_param == Repeated("instance_id", 2)
    assert parsed.chat_param == Repeated("chatId", 2)
    waha = parse(
        app, "/api/default/labels?x-api-key=1&x-api-key=2", headers={"X-Api-Key": "123456789"}
    )
    assert waha.caller.secret == Repeated("x-api-key", 2)  # refused even beside a header
    assert not waha.caller.matched


def test_a_waha_key_of_another_session_opens_some_instance_but_not_this_one(app: Flask) -> None:
    parsed = parse(app, "/api/sales/labels", headers={"X-Api-Key": "123456789"})
    assert parsed.caller.access is not None and parsed.caller.access.session == "sales"
    assert parsed.caller.opens_some_instance and not parsed.caller.matched


def test_the_control_api_is_not_emulated(app: Flask) -> None:
    assert not parse(app, "/__admin/health").emulated
    assert not parse(app, "/openapi.json").emulated
