"""The control API over real sockets: access guard, reset, load, dump, webhooks, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.mock import Settings, Store, create_app, parse_fixture
from chatlabels.mock.app import app_state
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data
from tests.webhook_receiver import Receiver

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
CHAT = "5511988887777@c.us"  # labels 3, 4, 6 in the default fixture
ADMIN_TOKEN = "adm-SECRET-4b1c"


@pytest.fixture
def server(default_server: MockServer) -> MockServer:
    """The module's server, reset before each test."""
    requests.post(f"{default_server.url}/__admin/reset", timeout=5).raise_for_status()
    return default_server


def call(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    params = kwargs.pop("params", AUTH if not path.startswith("/__admin") else None)
    return requests.request(method, server.url + path, params=params, timeout=10, **kwargs)


def dump(server: MockServer) -> dict[str, Any]:
    response = call(server, "GET", "/__admin/fixture")
    assert response.status_code == 200
    return response.json()


# -- access ---------------------------------------------------------------------------------
def test_health(server: MockServer) -> None:
    body = call(server, "GET", "/__admin/health").json()
    assert body["status"] == "ok"


def test_beyond_loopback_without_a_token_the_control_api_is_off() -> None:
    server = MockServer(parse_fixture(default_fixture_data()), host="0.0.0.0").start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        response = requests.get(f"{url}/__admin/health", timeout=5)
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "admin_disabled"
        assert "--admin-token" in body["message"] and "CHATLABELS_ADMIN_TOKEN" in body["message"]
        assert requests.post(f"{url}/__admin/reset", timeout=5).status_code == 403
        assert requests.get(f"{url}/v2/labels", params=AUTH, timeout=5).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_with_a_token_every_admin_call_needs_it(host: str) -> None:
    app = create_app(
        Store(parse_fixture(default_fixture_data())),
        Settings(host=host, admin_token=ADMIN_TOKEN),
    )
    client = app.test_client()
    for headers in ({}, {"X-Admin-Token": "wrong"}, {"X-Admin-Token": ADMIN_TOKEN + "x"}):
        response = client.get("/__admin/requests", headers=headers)
        assert response.status_code == 401
        assert ADMIN_TOKEN not in response.get_data(as_text=True)
    response = client.get("/__admin/requests", headers={"X-Admin-Token": ADMIN_TOKEN})
    assert response.status_code == 200
    assert ADMIN_TOKEN not in response.get_data(as_text=True)


def test_on_loopback_without_a_token_the_control_api_is_open() -> None:
    app = create_app(Store(parse_fixture(default_fixture_data())), Settings(host="127.0.0.1"))
    assert app.test_client().get("/__admin/health").status_code == 200


def test_unknown_admin_routes_and_methods_answer_json(server: MockServer) -> None:
    missing = call(server, "GET", "/__admin/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = call(server, "PUT", "/__admin/reset")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]


# -- reset, load, dump ----------------------------------------------------------------------
def test_reset_returns_state_rules_and_limits_and_clears_the_logs(server: MockServer) -> None:
    pristine = dump(server)
    call(server, "PUT", "/v2/labels/1/chats/5511999990000@c.us").raise_for_status()
    call(server, "POST", "/v2/labels", json={"name": "Hot", "color": 3}).raise_for_status()
    call(server, "POST", "/__admin/faults", json={"match": {"path": "/nowhere"}, "status": 500})
    call(
        server,
        "PUT",
        "/__admin/instances/sales/rate-limit",
        json={"requests": 5, "window_seconds": 1},
    )
    assert dump(server) != pristine

    response = call(server, "POST", "/__admin/reset")
    assert response.status_code == 200 and response.json()["success"] is True
    assert dump(server) == pristine
    assert call(server, "GET", "/__admin/requests").json()["requests"] == []
    assert call(server, "GET", "/__admin/faults").json() == {"faults": []}


def test_dump_and_load_round_trip(server: MockServer, start_server) -> None:
    call(server, "POST", "/v2/labels", json={"name": "Hot", "color": 3}).raise_for_status()
    call(server, "PUT", "/v2/labels/10/chats/5511999990000").raise_for_status()
    call(server, "DELETE", f"/v2/labels/4/chats/{CHAT}").raise_for_status()
    call(
        server,
        "POST",
        "/__admin/faults",
        json={"id": "later", "status": 500, "times": 2, "match": {"path": "/v2/labels/1"}},
    )
    call(
        server,
        "PUT",
        "/__admin/instances/default/rate-limit",
        json={"requests": 50, "window_seconds": 2},
    )
    saved = dump(server)
    assert {i["token"] for i in saved["instances"]} == {"[redacted]"}
    full = app_state(server.app).control.dump()
    assert parse_fixture(full) == full  # already normalised: serve-able as is

    other = start_server(default_fixture_data())
    loaded = call(other, "POST", "/__admin/fixture", json=saved)
    assert loaded.status_code == 200, loaded.text
    assert dump(other) == saved
    for path in ("/v2/labels", f"/v2/labels/chats/{CHAT}", "/v2/labels/10/chats"):
        assert call(other, "GET", path).json() == call(server, "GET", path).json()
    assert call(other, "GET", "/v2/labels/1").status_code == 500  # the fault came along
    # The loaded fixture is what reset returns to now.
    call(other, "DELETE", "/v2/labels/10").raise_for_status()
    call(other, "POST", "/__admin/reset").raise_for_status()
    assert dump(other) == saved


def test_a_bad_fixture_is_refused_whole_and_changes_nothing(server: MockServer) -> None:
    call(server, "PUT", "/v2/labels/1/chats/5511999990000@c.us").raise_for_status()
    before = dump(server)
    bad = default_fixture_data()
    bad["instances"][1]["session"] = "default"
    bad["instances"][0]["chats"]["not-a-chat"] = ["1"]
    bad["instances"][0]["chats"]["5511999990000@c.us"] = ["99"]
    bad["faults"] = [{"status": 42}]
    response = call(server, "POST", "/__admin/fixture", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_fixture"
    assert [p["pointer"] for p in body["problems"]] == ["/faults/0/status"]  # schema first
    del bad["faults"]
    body = call(server, "POST", "/__admin/fixture", json=bad).json()
    assert {p["pointer"] for p in body["problems"]} == {
        "/instances/1/session",
        "/instances/0/chats/not-a-chat",
        "/instances/0/chats/5511999990000@c.us/0",
    }
    not_json = call(server, "POST", "/__admin/fixture", data="{nope")
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_parameter"
    assert dump(server) == before


# -- webhook delivery log -------------------------------------------------------------------
def test_the_webhook_log_can_be_waited_for_filtered_and_cleared(server: MockServer) -> None:
    receiver = Receiver()
    try:
        fixture = default_fixture_data()
        fixture["instances"][0]["webhooks"] = [
            {"url": receiver.url, "events": ["label.chat.added"], "retries": {"attempts": 0}}
        ]
        call(server, "POST", "/__admin/fixture", json=fixture).raise_for_status()
        call(server, "PUT", "/v2/labels/1/chats/5511999990000@c.us").raise_for_status()
        response = call(server, "GET", "/__admin/webhooks?wait=1&timeout=5&instance=123456789")
        body = response.json()
        assert body["waited"] == {"count": 1, "satisfied": True}
        assert body["count"] == 1
        assert body["deliveries"][0]["event"] == "label.chat.added"
        late = call(server, "GET", "/__admin/webhooks?wait=2&timeout=0.2").json()
        assert late["waited"]["satisfied"] is False and late["count"] == 1
        assert call(server, "GET", "/__admin/webhooks?event=label.upsert").json()["count"] == 0
        call(server, "DELETE", "/__admin/webhooks").raise_for_status()
        assert call(server, "GET", "/__admin/webhooks").json()["deliveries"] == []
        assert call(server, "GET", "/__admin/webhooks?wait=0").status_code == 400
        assert call(server, "GET", "/__admin/webhooks?wait=1&timeout=999").status_code == 400
    finally:
        receiver.close()


# -- concurrency ----------------------------------------------------------------------------
def test_concurrent_writers_lose_no_update(server: MockServer) -> None:
    """Many clients link, unlink and create at once; the end state is exactly the expected."""
    chats = [f"55119000000{i:02d}@c.us" for i in range(16)]
    errors: list[str] = []

    def tag_chat(chat: str) -> None:
        with requests.Session() as http:
            for label in range(1, 10):
                for _ in range(2):  # the repeat is a no-op, idempotent
                    r = http.put(f"{server.url}/v2/labels/{label}/chats/{chat}", params=AUTH)
                    errors.extend([r.text] if r.status_code != 200 else [])
            for label in range(1, 10, 2):
                r = http.delete(f"{server.url}/v2/labels/{label}/chats/{chat}", params=AUTH)
                errors.extend([r.text] if r.status_code != 200 else [])

    def create(i: int) -> None:
        r = requests.post(
            f"{server.url}/v2/labels", params=AUTH, json={"name": f"C{i}", "color": i}, timeout=10
        )
        errors.extend([r.text] if r.status_code != 201 else [])

    threads = [threading.Thread(target=tag_chat, args=(chat,)) for chat in chats]
    threads += [threading.Thread(target=create, args=(i,)) for i in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for chat in chats:
        labels = call(server, "GET", f"/v2/labels/chats/{chat}").json()
        assert [label["id"] for label in labels] == ["2", "4", "6", "8"], chat
    all_labels = call(server, "GET", "/v2/labels").json()
    assert sorted(int(label["id"]) for label in all_labels) == list(range(1, 21))
    assert sorted(label["name"] for label in all_labels[9:]) == sorted(f"C{i}" for i in range(11))
    full = call(server, "POST", "/v2/labels", json={"name": "one too many", "color": 0})
    assert full.status_code == 403 and full.json()["error"] == "quota_reached"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "status", "match", "times", "path", "instances", "requests"])
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def scratch_server() -> Iterator[MockServer]:
    """A server of its own: a random document may happen to be a valid fixture."""
    server = MockServer(parse_fixture(default_fixture_data())).start()
    yield server
    server.stop()


@given(document=JSON_VALUES, target=st.sampled_from(["faults", "fixture", "rate-limit"]))
def test_any_json_document_is_accepted_or_refused_never_a_500(
    scratch_server: MockServer, document: Any, target: str
) -> None:
    """Property: whatever JSON a client posts to the control API, it gets 2xx, 400 or 422."""
    note(f"{target}: {document!r}")
    path = {
        "faults": "/__admin/faults",
        "fixture": "/__admin/fixture",
        "rate-limit": "/__admin/instances/sales/rate-limit",
    }[target]
    method = "PUT" if target == "rate-limit" else "POST"
    response = call(scratch_server, method, path, json=document)
    assert response.status_code in {200, 201, 400, 422}, response.text
    assert set(response.json()) >= (
        {"status", "message", "error"} if response.status_code >= 400 else set()
    )
    call(scratch_server, "POST", "/__admin/fixture", json=default_fixture_data())
    call(scratch_server, "POST", "/__admin/reset").raise_for_status()


def test_a_web_page_of_another_origin_cannot_drive_the_control_api(default_server):
    url = f"{default_server.url}/__admin/reset"
    refused = requests.post(url, headers={"Origin": "http://evil.example"}, timeout=5)
    assert refused.status_code == 403 and refused.json()["error"] == "cross_origin"
    same_origin = requests.post(url, headers={"Origin": default_server.url}, timeout=5)
    assert same_origin.status_code == 200


@pytest.mark.parametrize(
    ("limit", "pointer", "reason"),
    [
        ({"requests": 10**30, "window_seconds": 1}, "/requests", "100000"),
        ({"requests": 1, "window_seconds": 10**9}, "/window_seconds", "86400"),
    ],
)
def test_a_rate_limit_bounds_its_own_memory(
    server: MockServer, limit: dict[str, Any], pointer: str, reason: str
) -> None:
    """The mock keeps the time of each request counted in a window, so neither the count nor
    the window is unbounded: a limit past either is a 422 naming the bound."""
    answer = call(server, "PUT", "/__admin/instances/default/rate-limit", json=limit)
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert problem["pointer"] == pointer and reason in problem["reason"]
    assert call(server, "GET", "/__admin/instances/default/rate-limit").json() == {
        "rate_limit": None
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("wait", "\uff11"),  # a full-width 1: int() reads it as 1
        ("wait", "1_0"),
        ("wait", " 1"),
        ("wait", "+1"),
        ("timeout", "-0"),
        ("timeout", "1e-1"),
        ("timeout", "nan"),
        ("limit", "\u0661"),  # an Arabic-Indic 1
    ],
)
def test_a_number_parameter_takes_plain_digits_only(
    server: MockServer, name: str, value: str
) -> None:
    if name == "limit":
        answer = call(server, "GET", "/__admin/requests", params={name: value})
    else:
        params = {"wait": "1", "timeout": "0", name: value}
        answer = call(server, "GET", "/__admin/webhooks", params=params)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_parameter"
    assert name in answer.json()["message"]


def test_plain_numbers_are_taken(server: MockServer) -> None:
    answer = call(server, "GET", "/__admin/webhooks", params={"wait": "1", "timeout": ".05"})
    assert answer.status_code == 200 and answer.json()["waited"]["satisfied"] is False
    assert call(server, "GET", "/__admin/requests", params={"limit": "2"}).status_code == 200
