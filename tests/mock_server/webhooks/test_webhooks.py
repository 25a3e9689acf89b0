"""Webhooks over real sockets: the mock's API changes labels, a receiver in the test records
what the mock POSTs, and the dispatcher's log says what happened to every attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from chatlabels.contract.schemas import iter_errors, load_schema
from chatlabels.mock import load_fixture, parse_fixture
from chatlabels.mock.app import app_state
from chatlabels.mock.http.redaction import REDACTED
from chatlabels.mock.serving.server import MockServer
from chatlabels.mock.webhooks.dispatcher import DEFAULT_TIMEOUT_SECONDS, WebhookDispatcher
from chatlabels.mock.webhooks.envelope import MAX_RETRY_DELAY_SECONDS, retry_delay
from tests.conftest import FIXTURES_DIR, default_fixture_data

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
KEY = "s3cret-hmac-key"
VIP_CHAT = "5511988887777@c.us"  # carries labels 3, 4 and 6 in the default fixture


def webhook(url: str, **config: Any) -> dict[str, Any]:
    return {"url": url, "retries": {"delaySeconds": 0, "attempts": 0}, **config}


@pytest.fixture
def mock_with(default_server: MockServer) -> Callable[..., tuple[MockServer, WebhookDispatcher]]:
    """Load the default fixture with the given webhooks on its first instance.

    One server for the module (its start/stop is the slow part); each test loads its own
    fixture into the store, which is also how a user swaps webhooks mid-run.
    """
    hooks = app_state(default_server.app).control.webhooks

    def load(*webhooks: dict[str, Any]) -> tuple[MockServer, WebhookDispatcher]:
        data = default_fixture_data()
        data["instances"][0]["webhooks"] = list(webhooks)
        default_server.store.load(parse_fixture(data))
        hooks.clear()
        return default_server, hooks

    yield load
    hooks.timeout = DEFAULT_TIMEOUT_SECONDS


def call(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(method, f"{server.url}{path}", params=AUTH, timeout=5, **kwargs)
    assert response.status_code < 300, response.text
    return response


def assert_valid_envelope(body: bytes | str) -> dict[str, Any]:
    envelope = json.loads(body)
    errors = [f"{e.json_path}: {e.message}" for e in iter_errors("webhook-event", envelope)]
    assert not errors, errors
    return envelope


def test_every_label_change_is_delivered_in_order_with_a_valid_envelope(mock_with, receiver):
    server, hooks = mock_with(webhook(f"{receiver.url}/hook"))
    call(server, "POST", "/v2/labels", json={"name": "Hot lead", "color": 13})
    call(server, "PUT", "/v2/labels/10", json={"name": "Hotter lead", "color": 14})
    call(server, "PUT", "/v2/labels/10/chats/5511999990000@c.us")
    call(server, "DELETE", "/v2/labels/10/chats/5511999990000@c.us")
    call(server, "PUT", "/v2/labels/10/chats/5511999990000@c.us")
    call(server, "DELETE", "/v2/labels/10")

    hooks.wait_for(count=7)
    envelopes = [assert_valid_envelope(r["body"]) for r in receiver.requests]
    assert [(e["event"], e["payload"].get("chatId")) for e in envelopes] == [
        ("label.upsert", None),
        ("label.upsert", None),
        ("label.chat.added", "5511999990000@c.us"),
        ("label.chat.deleted", "5511999990000@c.us"),
        ("label.chat.added", "5511999990000@c.us"),
        ("label.chat.deleted", "5511999990000@c.us"),  # deleting a label unlinks it first
        ("label.deleted", None),
    ]
    hot = {"id": "10", "name": "Hot lead", "color": 13, "colorHex": "#f74848"}
    hotter = {"id": "10", "name": "Hotter lead", "color": 14, "colorHex": "#00a0f2"}
    assert [e["payload"] for e in envelopes[:2]] == [hot, hotter]
    assert envelopes[2]["payload"] == {
        "labelId": "10",
        "chatId": "5511999990000@c.us",
        "label": hotter,
    }
    assert envelopes[6]["payload"] == hotter
    first = envelopes[0]
    assert first["session"] == "default"
    assert first["engine"] == "WEBJS"
    assert first["me"] == {"id": "123456789@c.us", "pushName": "Demo Business"}
    assert first["environment"]["engine"] == "WEBJS"
    assert len({e["id"] for e in envelopes}) == 7
    assert all(e["id"].startswith("evt_") and len(e["id"]) == 36 for e in envelopes)
    assert all(abs(e["timestamp"] - time.time() * 1000) < 60_000 for e in envelopes)
    assert {r["path"] for r in receiver.requests} == {"/hook"}


def test_signature_and_headers_verify_independently(mock_with, receiver):
    custom = [{"name": "X-Source", "value": "crm"}, {"name": "Authorization", "value": "Bearer t"}]
    server, hooks = mock_with(
        webhook(receiver.url, hmac={"key": KEY}, customHeaders=custom),
        webhook(f"{receiver.url}/unsigned"),
    )
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")
    logged = hooks.wait_for(count=2)

    signed, unsigned = sorted(receiver.requests, key=lambda r: r["path"])
    headers = signed["headers"]
    expected = hmac.new(KEY.encode(), signed["body"], hashlib.sha512).hexdigest()
    assert hmac.compare_digest(headers["X-Webhook-Hmac"], expected)
    assert headers["X-Webhook-Hmac-Algorithm"] == "sha512"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Webhook-Timestamp"] == str(json.loads(signed["body"])["timestamp"])
    assert len(headers["X-Webhook-Request-Id"]) >= 16
    assert headers["X-Source"] == "crm"
    assert headers["Authorization"] == "Bearer t"
    assert "X-Webhook-Hmac" not in unsigned["headers"]
    assert "X-Webhook-Hmac-Algorithm" not in unsigned["headers"]
    assert signed["body"] == unsigned["body"]  # one event, one body, for every webhook

    record = next(d for d in logged if d["url"] == receiver.url)
    assert record["headers"]["X-Webhook-Hmac"] == expected  # kept: a test can verify it
    assert record["headers"]["Authorization"] == REDACTED
    assert record["body"].encode() == signed["body"]
    assert record["outcome"] == "delivered"
    assert record["requestId"] == headers["X-Webhook-Request-Id"]
    assert record["attempts"][0]["statusCode"] == 200


def test_events_filter_is_respected(mock_with, receiver):
    server, hooks = mock_with(
        webhook(f"{receiver.url}/links", events=["label.chat.added"]),
        webhook(f"{receiver.url}/labels", events=["label.upsert", "label.deleted"]),
    )
    call(server, "PUT", "/v2/labels/1", json={"name": "Renamed", "color": 0})
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")
    call(server, "DELETE", f"/v2/labels/1/chats/{VIP_CHAT}")
    call(server, "PUT", "/v2/labels/2/chats/5511999990000@c.us")

    hooks.wait_for(count=3)
    got = [(r["path"], json.loads(r["body"])["event"]) for r in receiver.requests]
    assert sorted(got) == [
        ("/labels", "label.upsert"),
        ("/links", "label.chat.added"),
        ("/links", "label.chat.added"),
    ]
    assert [d["event"] for d in hooks.deliveries(event="label.chat.deleted")] == []


def test_a_change_that_changes_nothing_fires_nothing(mock_with, receiver):
    server, hooks = mock_with(webhook(receiver.url))
    call(server, "PUT", f"/v2/labels/3/chats/{VIP_CHAT}")  # already linked
    call(server, "DELETE", "/v2/labels/1/chats/5511999990000@c.us")  # not linked
    call(server, "PUT", "/v2/labels/3", json={"name": "VIP", "color": 2})  # same values
    # A real change afterwards: one lane keeps order, so an earlier event would come first.
    call(server, "PUT", "/v2/labels/1/chats/5511999990000@c.us")

    (only,) = hooks.wait_for(count=1)
    assert only["event"] == "label.chat.added"
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == ["label.chat.added"]


@given(
    delay=st.floats(min_value=0, max_value=3600),
    policy=st.sampled_from(["constant", "linear", "exponential"]),
    number=st.integers(min_value=1, max_value=100),
)
def test_no_retry_waits_longer_than_the_bound(delay: float, policy: str, number: int) -> None:
    """Up to 100 attempts of an exponential policy passes any clock's range; a wait that
    long once stopped the sender's thread (OverflowError), so every wait is capped."""
    wait = retry_delay({"delaySeconds": delay, "attempts": 100, "policy": policy}, number)
    assert 0 <= wait <= MAX_RETRY_DELAY_SECONDS < threading.TIMEOUT_MAX


def test_the_schema_bounds_the_delay_by_the_same_number() -> None:
    """The cap and the fixture schema's maximum for ``delaySeconds`` are one bound."""
    retries = load_schema("fixture.schema.json")["$defs"]["webhook"]["properties"]["retries"]
    assert retries["properties"]["delaySeconds"]["maximum"] == MAX_RETRY_DELAY_SECONDS


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("constant", [0.5, 0.5, 0.5, 0.5]),
        ("linear", [0.5, 1.0, 1.5, 2.0]),
        ("exponential", [0.5, 1.0, 2.0, 4.0]),
    ],
)
def test_retry_delays_follow_the_policy(policy, expected):
    retries = {"delaySeconds": 0.5, "attempts": 4, "policy": policy}
    assert [retry_delay(retries, n) for n in range(1, 5)] == expected


def test_retry_defaults_are_wahas():
    assert retry_delay(None, 3) == 2.0  # 2 s, constant


def test_failing_receiver_is_retried_with_the_policy_delays(mock_with, receiver):
    receiver.statuses = [500, 503]
    retries = {"delaySeconds": 0.1, "attempts": 3, "policy": "linear"}
    server, hooks = mock_with({"url": receiver.url, "retries": retries})
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")

    (delivery,) = hooks.wait_for(count=1)
    attempts = delivery["attempts"]
    assert delivery["outcome"] == "delivered"
    assert [a["statusCode"] for a in attempts] == [500, 503, 200]
    assert [a["waitedSeconds"] for a in attempts] == [0, 0.1, 0.2]
    # The time between the end of one attempt and the start of the next is the policy's
    # delay: never less, and not the 2 s default either (the upper margin is for a loaded
    # machine: it was 0.4 s, with the attempt's own duration inside it).
    waits = [
        (b["startedAt"] - a["startedAt"] - a["durationMs"]) / 1000 for a, b in pairwise(attempts)
    ]
    assert 0.09 <= waits[0] < 0.1 + 1.0, waits
    assert 0.19 <= waits[1] < 0.2 + 1.0, waits
    bodies = {r["body"] for r in receiver.requests}
    request_ids = {r["headers"]["X-Webhook-Request-Id"] for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert len(bodies) == len(request_ids) == 1  # the same request, resent


def test_exhausted_retries_end_as_failed(mock_with, receiver):
    receiver.statuses = [500] * 10
    retries = {"delaySeconds": 0.01, "attempts": 2, "policy": "exponential"}
    server, hooks = mock_with({"url": receiver.url, "retries": retries})
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")

    (delivery,) = hooks.wait_for(count=1)
    assert delivery["outcome"] == "failed"
    assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3]
    assert all(a["statusCode"] == 500 and a["error"] is None for a in delivery["attempts"])


def test_hanging_receiver_times_out_and_is_recorded_as_an_error(mock_with, receiver):
    receiver.hang.set()
    server, hooks = mock_with(webhook(receiver.url))
    hooks.timeout = 0.3
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")

    (delivery,) = hooks.wait_for(count=1)
    (attempt,) = delivery["attempts"]
    assert delivery["outcome"] == "failed"
    assert attempt["statusCode"] is None
    assert "timeout" in attempt["error"]
    assert 250 <= attempt["durationMs"] < 3000


def test_unreachable_receiver_is_recorded_as_a_connection_error(mock_with, receiver):
    url = receiver.url
    receiver.close()
    server, hooks = mock_with(webhook(url))
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")

    (delivery,) = hooks.wait_for(count=1)
    assert delivery["outcome"] == "failed"
    assert "ConnectionError" in delivery["attempts"][0]["error"]


def test_a_slow_receiver_does_not_slow_the_api(mock_with, receiver):
    receiver.hang.set()
    server, hooks = mock_with(webhook(receiver.url))
    started = time.perf_counter()
    for chat in ("5511999990000@c.us", "5511977776666@c.us", "5511966665555@c.us"):
        call(server, "PUT", f"/v2/labels/1/chats/{chat}")
    # Waiting on the receiver, the first write alone would take the 10 s delivery timeout;
    # 5 s leaves a loaded machine its margin (it was 1 s).
    assert time.perf_counter() - started < 5.0
    # The router may not have logged every event yet; none has finished.
    assert {d["outcome"] for d in hooks.deliveries()} <= {"pending"}
    receiver.release.set()
    assert [d["outcome"] for d in hooks.wait_for(count=3)] == ["delivered"] * 3


def test_wait_for_filters_and_times_out_with_a_clear_message(mock_with, receiver):
    server, hooks = mock_with(webhook(receiver.url))
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")
    assert len(hooks.wait_for(event="label.chat.added", instance_id="123456789")) == 1
    assert hooks.deliveries(instance_id="987654321") == []

    started = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"1 finished, 0 still pending.*no-op fires no event"):
        hooks.wait_for(count=2, timeout=0.2)
    assert time.perf_counter() - started < 2.5  # its own 0.2 s, not the default 5 s

    hooks.clear()
    assert hooks.deliveries() == []


def test_the_log_is_bounded(receiver):
    hooks = WebhookDispatcher(max_deliveries=3)
    instance = {
        "id": "1",
        "session": "default",
        "engine": "NOWEB",
        "webhooks": [webhook(receiver.url)],
    }
    try:
        for n in range(5):
            hooks.on_store_event(instance, "label.deleted", {"id": str(n)})
        logged = hooks.wait_for(count=3)
        assert len(receiver.requests) == 5
        assert [d["envelope"]["payload"]["id"] for d in logged] == ["2", "3", "4"]
        assert "me" not in logged[0]["envelope"]  # no `me` configured: omitted, as WAHA does
    finally:
        hooks.close()


def test_load_and_reset_keep_the_subscription_and_use_the_new_webhooks(mock_with, receiver):
    server, hooks = mock_with(webhook(f"{receiver.url}/old"))
    server.store.reset()
    call(server, "PUT", f"/v2/labels/1/chats/{VIP_CHAT}")
    hooks.wait_for(count=1)

    fixture = load_fixture(FIXTURES_DIR / "webhooks.json")
    fixture["instances"][0]["webhooks"] = [webhook(f"{receiver.url}/new")]
    server.store.load(fixture)
    call(server, "PUT", "/v2/labels/1/chats/5511999990000@c.us")
    hooks.wait_for(count=2)
    assert [r["path"] for r in receiver.requests] == ["/old", "/new"]


def test_the_webhooks_fixture_loads_and_signs_every_event():
    fixture = load_fixture(FIXTURES_DIR / "webhooks.json")
    first, links = fixture["instances"][0]["webhooks"]
    assert first["hmac"]["key"] and first["events"] == ["*"]
    assert links["events"] == ["label.chat.added", "label.chat.deleted"]
