"""The WAHA dialect over real sockets: every route, WAHA's error bodies, the shared state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.contract.schemas import PALETTE, iter_errors
from chatlabels.mock import parse_fixture
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data

#: The label routes of WAHA's OpenAPI 2024.9.2, cut unchanged out of the upstream file.
UPSTREAM = Path(__file__).resolve().parents[2] / "data" / "waha-openapi-2024.9.2-labels.json"
KEY = {"X-Api-Key": "123456789"}
PROVIDER = {"instance_id": "123456789", "access_token": "123456789"}
CHAT = "5511988887777@c.us"  # labels 3, 4, 6 in the default fixture
SESSION_ERROR = "Session status is not as expected. Try again later or restart the session"

#: Label operations newer than the 2024.9.2 OpenAPI (contract section 5).
NEWER_OPERATIONS = [
    ("post", "/api/{session}/labels"),
    ("put", "/api/{session}/labels/{labelId}"),
    ("delete", "/api/{session}/labels/{labelId}"),
]


def assert_valid(schema: str, document: Any) -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in iter_errors(schema, document)]
    assert not errors, f"{schema} violated by {document!r}: {errors}"


def waha_error(response: requests.Response, status: int) -> dict[str, Any]:
    """The body of a WAHA error answer, checked against waha-error.schema.json."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert_valid("waha-error", body)
    return body


def nest(status: int, error: str, message: Any) -> dict[str, Any]:
    return {"message": message, "error": error, "statusCode": status}


def call(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", KEY)
    return requests.request(method, server.url + path, timeout=5, **kwargs)


def chat_label_ids(server: MockServer, chat: str = CHAT) -> list[str]:
    response = call(server, "GET", f"/api/default/labels/chats/{chat}")
    assert response.status_code == 200
    assert_valid("chat-labels", response.json())
    return [label["id"] for label in response.json()]


def provider_chat_label_ids(server: MockServer, chat: str = CHAT) -> list[str]:
    response = requests.get(f"{server.url}/v2/labels/chats/{chat}", params=PROVIDER, timeout=5)
    assert response.status_code == 200
    return [label["id"] for label in response.json()]


def two_working_sessions() -> dict[str, Any]:
    data = default_fixture_data()
    data["instances"][1].update(status="WORKING", api_key="sales-key")
    return data


@pytest.fixture(scope="module")
def replace_server() -> Iterator[MockServer]:
    """A server of its own for the property test (Hypothesis reuses it across examples)."""
    server = MockServer(parse_fixture(default_fixture_data()), port=0).start()
    yield server
    server.stop()


# -- every operation of WAHA's OpenAPI is served ------------------------------------------
def upstream_label_operations() -> list[tuple[str, str]]:
    paths = json.loads(UPSTREAM.read_text(encoding="utf-8"))["paths"]
    upstream = [
        (method, path)
        for path, item in paths.items()
        if path.startswith("/api/{session}/labels")
        for method in item
        if method in {"get", "put", "post", "delete", "patch"}
    ]
    assert len(upstream) == 4, upstream  # getAll, getChatLabels, putChatLabels, getChatsByLabel
    return upstream + NEWER_OPERATIONS


@pytest.mark.parametrize(("method", "template"), upstream_label_operations())
def test_every_waha_label_operation_is_served(start_server, method: str, template: str) -> None:
    server = start_server()
    path = template.format(session="default", chatId="123456789@c.us", labelId="1")
    body = {"labels": [{"id": "1"}]} if path.endswith("@c.us") else {"name": "Lead", "color": 3}
    response = call(server, method.upper(), path, json=body if method in {"put", "post"} else None)
    assert response.status_code in {200, 201}, response.text


# -- authentication and session checks, in WAHA's order -----------------------------------
def test_key_in_header_or_query_authenticates(default_server) -> None:
    by_header = call(default_server, "GET", "/api/default/labels")
    by_query = call(default_server, "GET", "/api/default/labels?x-api-key=123456789", headers={})
    assert by_header.status_code == by_query.status_code == 200
    assert by_header.json() == by_query.json()
    assert_valid("chat-labels", by_header.json())


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"X-Api-Key": "wrong"}, ""),
        ({}, "?x-api-key=wrong"),
        ({"X-Api-Key": ""}, "?x-api-key=123456789"),  # WAHA reads header ?? query
        ({"X-Api-Key": "wrong"}, "?x-api-key=123456789"),
    ],
)
def test_missing_or_wrong_key_is_nestjs_401(default_server, headers, query) -> None:
    response = call(default_server, "GET", f"/api/default/labels{query}", headers=headers)
    assert waha_error(response, 401) == {"message": "Unauthorized", "statusCode": 401}


def test_key_guard_runs_before_routing_and_session_lookup(default_server) -> None:
    for path in ("/api/default/nothing-here", "/api/no-such-session/labels"):
        response = call(default_server, "GET", path, headers={})
        assert waha_error(response, 401)["message"] == "Unauthorized"


def test_unknown_session_is_wahas_404(default_server) -> None:
    response = call(default_server, "GET", "/api/nope/labels")
    assert waha_error(response, 404) == nest(
        404,
        "Not Found",
        "We didn't find a session with name 'nope'.\n"
        "Please start it first by using POST /api/sessions/nope/start request",
    )


def test_session_not_working_is_wahas_422(default_server) -> None:
    response = call(default_server, "GET", "/api/sales/labels", headers={"X-Api-Key": "987654321"})
    assert waha_error(response, 422) == {
        "error": SESSION_ERROR,
        "session": "sales",
        "status": "SCAN_QR_CODE",
        "expected": ["WORKING"],
    }


def test_a_sessions_key_does_not_open_another_session(start_server) -> None:
    server = start_server(two_working_sessions())
    response = call(server, "GET", "/api/sales/labels")  # the default session's key
    assert waha_error(response, 403) == {"message": "Forbidden", "statusCode": 403}
    own = call(server, "GET", "/api/sales/labels", headers={"X-Api-Key": "sales-key"})
    assert [label["name"] for label in own.json()] == ["Lead"]
    # The token is no longer the key once api_key is set.
    response = call(server, "GET", "/api/sales/labels", headers={"X-Api-Key": "987654321"})
    assert waha_error(response, 401)["message"] == "Unauthorized"


def test_sessions_are_isolated(start_server) -> None:
    server = start_server(two_working_sessions())
    created = call(server, "POST", "/api/default/labels", json={"name": "Only here", "color": 1})
    assert created.status_code == 201
    sales = call(server, "GET", "/api/sales/labels", headers={"X-Api-Key": "sales-key"}).json()
    assert "Only here" not in [label["name"] for label in sales]
    put = call(
        server,
        "PUT",
        "/api/sales/labels/chats/5511944443333@c.us",
        headers={"X-Api-Key": "sales-key"},
        json={"labels": []},
    )
    assert put.status_code == 200
    assert chat_label_ids(server, "123456789@c.us") == ["1"]


# -- unknown routes -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/default/nothing-here"),
        ("POST", "/api/default/labels/chats/123456789@c.us"),  # Express has no 405
        ("DELETE", "/api/default/labels/chats/123456789@c.us"),
        ("PATCH", "/api/default/labels/1"),
    ],
)
def test_unrouted_request_is_nestjs_404(default_server, method, path) -> None:
    response = call(default_server, method, f"{path}?x-api-key=123456789", headers={})
    assert waha_error(response, 404) == nest(404, "Not Found", f"Cannot {method} {path}")
    assert "Allow" not in response.headers
    assert "123456789" not in response.json()["message"].replace(path, "")


# -- labels -------------------------------------------------------------------------------
def test_list_labels_matches_the_provider_dialect(default_server) -> None:
    waha = call(default_server, "GET", "/api/default/labels").json()
    provider = requests.get(f"{default_server.url}/v2/labels", params=PROVIDER, timeout=5).json()
    assert waha == provider
    assert len(waha) == 9


@pytest.mark.parametrize("color", [{"color": 13}, {"colorHex": PALETTE[13]}])
def test_create_label_is_201_and_visible_through_the_provider(start_server, color) -> None:
    server = start_server()
    response = call(server, "POST", "/api/default/labels", json={"name": "Lead", **color})
    assert response.status_code == 201
    label = response.json()
    assert_valid("label", label)
    assert label == {"id": "10", "name": "Lead", "color": 13, "colorHex": PALETTE[13]}
    provider = requests.get(f"{server.url}/v2/labels/10", params=PROVIDER, timeout=5)
    assert provider.json() == label


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "color": 1, "colorHex": "#ff9485"}, "Use either 'color' or 'colorHex'"),
        ({"name": "x"}, "'color' or 'colorHex' is required"),
        (
            {"name": "x", "colorHex": "#123456"},
            "Invalid 'colorHex'. Possible values: " + ", ".join(PALETTE),
        ),
    ],
)
def test_label_body_errors_are_wahas_422(start_server, body, message) -> None:
    server = start_server()
    for method, path in (("POST", "/api/default/labels"), ("PUT", "/api/default/labels/1")):
        response = call(server, method, path, json=body)
        assert waha_error(response, 422) == nest(422, "Unprocessable Entity", message)
    assert len(call(server, "GET", "/api/default/labels").json()) == 9


def test_unparsable_body_is_nestjs_400(default_server) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    response = call(default_server, "POST", "/api/default/labels", data="{oops", headers=headers)
    body = waha_error(response, 400)
    assert body["error"] == "Bad Request" and "JSON" in body["message"]


def test_update_label(start_server) -> None:
    server = start_server()
    response = call(server, "PUT", "/api/default/labels/3", json={"name": "VVIP", "color": 0})
    assert response.status_code == 200
    assert response.json() == {"id": "3", "name": "VVIP", "color": 0, "colorHex": PALETTE[0]}
    assert call(server, "GET", f"/api/default/labels/chats/{CHAT}").json()[0]["name"] == "VVIP"


def test_delete_label_unlinks_it_everywhere(start_server) -> None:
    server = start_server()
    response = call(server, "DELETE", "/api/default/labels/3")
    assert response.status_code == 200 and response.json() == {"result": True}
    assert chat_label_ids(server) == ["4", "6"]
    assert provider_chat_label_ids(server, "203251182247977@lid") == []
    again = call(server, "DELETE", "/api/default/labels/3")
    assert waha_error(again, 404) == nest(404, "Not Found", "Label not found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/default/labels/99"),
        ("DELETE", "/api/default/labels/99"),
        # GET .../99/chats depends on the engine: tests/mock_server/waha/test_waha_engines.py
    ],
)
def test_unknown_label_in_path_is_404(default_server, method, path) -> None:
    response = call(default_server, method, path, json={"name": "x", "color": 1})
    assert waha_error(response, 404) == nest(404, "Not Found", "Label not found")


def test_any_label_id_that_is_not_a_labels_is_unknown(default_server) -> None:
    """WAHA does not check the id's form: 'abc' is a label it does not have (404)."""
    response = call(default_server, "DELETE", "/api/default/labels/abc")
    assert waha_error(response, 404) == nest(404, "Not Found", "Label not found")


# -- chats --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "chat", [CHAT, "5511988887777%40c.us", "5511988887777@s.whatsapp.net", "5511988887777"]
)
def test_get_chat_labels_in_any_chat_id_form(default_server, chat) -> None:
    assert chat_label_ids(default_server, chat) == ["3", "4", "6"]


def test_unknown_chat_has_no_labels_and_bad_chat_id_is_400(default_server) -> None:
    assert chat_label_ids(default_server, "5500000000000@c.us") == []
    response = call(default_server, "GET", "/api/default/labels/chats/not-a-chat")
    assert "not-a-chat" in waha_error(response, 400)["message"]


def test_chats_with_label_on_gows_are_ids_in_c_us_form(start_server) -> None:
    """GOWS answers only ids; WEBJS and NOWEB objects: test_waha_engines.py."""
    data = default_fixture_data()
    data["instances"][0]["engine"] = "GOWS"
    server = start_server(data)
    put = call(
        server, "PUT", "/api/default/labels/chats/5511000000001", json={"labels": [{"id": "3"}]}
    )
    assert put.status_code == 200
    chats = call(server, "GET", "/api/default/labels/3/chats").json()
    assert sorted(chats, key=lambda c: c["id"]) == [
        {"id": "203251182247977@lid"},
        {"id": "5511000000001@c.us"},
        {"id": CHAT},
    ]


def test_put_chat_labels_replaces_the_whole_set(start_server) -> None:
    server = start_server()
    labels = [{"id": "2"}, {"id": "1"}, {"id": "2"}, {"id": "4"}]
    response = call(server, "PUT", f"/api/default/labels/chats/{CHAT}", json={"labels": labels})
    assert response.status_code == 200
    assert response.content == b"" and "Content-Type" not in response.headers
    assert chat_label_ids(server) == ["2", "1", "4"]  # order kept, duplicates once
    assert provider_chat_label_ids(server) == ["2", "1", "4"]
    cleared = call(server, "PUT", f"/api/default/labels/chats/{CHAT}", json={"labels": []})
    assert cleared.status_code == 200
    assert chat_label_ids(server) == provider_chat_label_ids(server) == []


def test_provider_changes_are_visible_through_waha(start_server) -> None:
    server = start_server()
    linked = requests.put(f"{server.url}/v2/labels/1/chats/{CHAT}", params=PROVIDER, timeout=5)
    assert linked.status_code == 200
    assert chat_label_ids(server) == ["3", "4", "6", "1"]
    requests.delete(f"{server.url}/v2/labels/4", params=PROVIDER, timeout=5)
    assert chat_label_ids(server) == ["3", "6", "1"]


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({}, ["labels must be an array"]),
        ({"labels": {"id": "1"}}, ["labels must be an array"]),
        (
            {"labels": [{"id": 1}, "2", {}]},
            [
                "labels.0.id must be a string",
                "nested property labels.1 must be either object or array",
                "labels.2.id must be a string",
            ],
        ),
    ],
)
def test_put_chat_labels_body_errors_are_validation_400(start_server, body, messages) -> None:
    server = start_server()
    response = call(server, "PUT", f"/api/default/labels/chats/{CHAT}", json=body)
    assert waha_error(response, 400) == nest(400, "Bad Request", messages)
    assert chat_label_ids(server) == ["3", "4", "6"]


def test_put_chat_labels_with_unknown_label_is_422_and_changes_nothing(start_server) -> None:
    server = start_server()
    body = {"labels": [{"id": "1"}, {"id": "99"}, {"id": "x"}]}
    response = call(server, "PUT", f"/api/default/labels/chats/{CHAT}", json=body)
    message = waha_error(response, 422)["message"]
    assert "'99'" in message and "'x'" in message and "'1'" not in message
    assert chat_label_ids(server) == ["3", "4", "6"]


@given(st.lists(st.sampled_from([str(i) for i in range(1, 10)]), max_size=12))
def test_replace_then_read_gives_the_set_in_first_seen_order(replace_server, ids) -> None:
    """Property: after PUT {labels: ids}, both dialects read ids de-duplicated, first-seen order."""
    note(f"ids={ids}")
    body = {"labels": [{"id": label_id} for label_id in ids]}
    response = call(replace_server, "PUT", "/api/default/labels/chats/5511000000002", json=body)
    assert response.status_code == 200
    expected = list(dict.fromkeys(ids))
    assert chat_label_ids(replace_server, "5511000000002@c.us") == expected
    assert provider_chat_label_ids(replace_server, "5511000000002@c.us") == expected


def test_a_body_not_sent_as_json_is_an_empty_body_as_in_nestjs(replace_server):
    """WAHA parses only application/json: a form or text body must not change the state."""
    before = chat_label_ids(replace_server)
    response = call(
        replace_server,
        "PUT",
        f"/api/default/labels/chats/{CHAT}",
        data='{"labels": [{"id": "1"}]}',
        headers={**KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert waha_error(response, 400)["message"] == ["labels must be an array"]
    assert chat_label_ids(replace_server) == before
