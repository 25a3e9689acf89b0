"""Get Chat Labels over a real socket: routes, auth, chat id forms, errors (issue 2)."""

from __future__ import annotations

import logging

import pytest
import requests

from chatlabels.contract.schemas import iter_errors

DOCS = {"instance_id": "123456789", "access_token": "123456789"}
CHAT = "123456789@c.us"
NEW_CUSTOMER = {"id": "1", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}


def get(server, path: str, params=None, headers=None) -> requests.Response:
    return requests.get(server.url + path, params=params, headers=headers, timeout=5)


def assert_error(response: requests.Response, status: int, error: str) -> dict:
    """The provider's error envelope, as JSON, and never an echo of the token."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(iter_errors("error", body)) == []
    assert body["status"] == status
    assert body["error"] == error
    return body


def test_request_copied_from_the_docs_answers_new_customer(default_server):
    url = f"{default_server.url}/v2/labels/chats/123456789%40c.us?chatId=123456789%40c.us"
    response = requests.get(url, params=DOCS, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == [NEW_CUSTOMER]
    # the provider's key order, not Flask's sorted keys
    assert (
        response.text.index('"id"')
        < response.text.index('"name"')
        < response.text.index('"colorHex"')
    )


@pytest.mark.parametrize(
    ("chat", "names"),
    [
        ("5511988887777@c.us", ["VIP", "Pending Payment", "Assigned to Alice"]),
        ("5511977776666@c.us", ["Wholesale"]),
        ("5511966665555@c.us", ["Retail"]),
        ("120363025246125486@g.us", ["New Order", "Pending Payment"]),
        ("5511955554444-1612345678@g.us", ["Paid"]),
        ("203251182247977@lid", ["VIP"]),
        ("5511999990000@c.us", []),
        ("19999999999@c.us", []),
        ("1@newsletter", []),
        ("status@broadcast", []),
    ],
)
def test_labels_come_in_fixture_order_and_match_the_schema(default_server, chat, names):
    response = get(default_server, f"/v2/labels/chats/{chat}", DOCS)
    assert response.status_code == 200
    body = response.json()
    assert list(iter_errors("chat-labels", body)) == []
    assert [label["name"] for label in body] == names


@pytest.mark.parametrize(
    "form", ["123456789@c.us", "123456789%40c.us", "123456789@s.whatsapp.net", "123456789"]
)
def test_every_form_of_a_person_id_is_the_same_chat(default_server, form):
    assert get(default_server, f"/v2/labels/chats/{form}", DOCS).json() == [NEW_CUSTOMER]


def test_wholesale_and_retail_customers_carry_the_ids_the_docs_use(default_server):
    wholesale = get(default_server, "/v2/labels/chats/5511977776666@c.us", DOCS).json()
    retail = get(default_server, "/v2/labels/chats/5511966665555@c.us", DOCS).json()
    assert [label["id"] for label in wholesale] == ["5"]
    assert [label["id"] for label in retail] == ["2"]


def test_token_in_the_access_token_header_works(default_server):
    response = get(
        default_server,
        f"/v2/labels/chats/{CHAT}",
        {"instance_id": "123456789"},
        headers={"access-token": "123456789"},
    )
    assert response.json() == [NEW_CUSTOMER]


def test_query_chat_id_agreeing_in_another_form_is_accepted(default_server):
    params = {**DOCS, "chatId": "123456789@s.whatsapp.net"}
    assert get(default_server, f"/v2/labels/chats/{CHAT}", params).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "error"),
    [
        (f"/v2/labels/chats/{CHAT}", {"instance_id": "123456789"}, None, 401, "unauthorized"),
        (f"/v2/labels/chats/{CHAT}", {**DOCS, "access_token": ""}, None, 401, "unauthorized"),
        (f"/v2/labels/chats/{CHAT}", {**DOCS, "access_token": "wrong"}, None, 401, "unauthorized"),
        (f"/v2/labels/chats/{CHAT}", {**DOCS, "instance_id": "555"}, None, 401, "unauthorized"),
        (f"/v2/labels/chats/{CHAT}", {"access_token": "123456789"}, None, 400, "invalid_parameter"),
        ("/v2/labels/chats/abc", DOCS, None, 400, "invalid_parameter"),
        ("/v2/labels/chats/123@x.us", DOCS, None, 400, "invalid_parameter"),
        ("/v2/labels/chats/", DOCS, None, 400, "invalid_parameter"),
        ("/v2/labels/chats/..%2F..%2Fetc%2Fpasswd", DOCS, None, 400, "invalid_parameter"),
        (
            f"/v2/labels/chats/{CHAT}",
            {**DOCS, "chatId": "999@c.us"},
            None,
            400,
            "invalid_parameter",
        ),
        (f"/v2/labels/chats/{CHAT}", {**DOCS, "chatId": "nope"}, None, 400, "invalid_parameter"),
        (
            f"/v2/labels/chats/{CHAT}",
            {"instance_id": "123456789", "access_token": "123456789"},
            {"access-token": "different"},
            400,
            "invalid_parameter",
        ),
        (
            f"/v2/labels/chats/{CHAT}",
            {"instance_id": "987654321", "access_token": "987654321"},
            None,
            422,
            "session_not_ready",
        ),
        ("/v2/nothing/here", DOCS, None, 404, "not_found"),
        ("/", None, None, 404, "not_found"),
    ],
)
def test_error_table(default_server, path, params, headers, status, error):
    assert_error(get(default_server, path, params, headers), status, error)


def test_unknown_instance_and_wrong_token_get_the_same_answer(default_server):
    unknown = get(default_server, f"/v2/labels/chats/{CHAT}", {**DOCS, "instance_id": "555"})
    wrong = get(default_server, f"/v2/labels/chats/{CHAT}", {**DOCS, "access_token": "nope"})
    assert unknown.json() == wrong.json()


def test_repeated_parameters_are_rejected_not_guessed(default_server):
    url = f"{default_server.url}/v2/labels/chats/{CHAT}?instance_id=123456789&instance_id=987654321"
    body = assert_error(
        requests.get(url, params={"access_token": "123456789"}, timeout=5), 400, "invalid_parameter"
    )
    assert "instance_id" in body["message"]


def test_malformed_chat_id_error_says_which_forms_are_accepted(default_server):
    body = assert_error(
        get(default_server, "/v2/labels/chats/hello", DOCS), 400, "invalid_parameter"
    )
    assert "@c.us" in body["message"] and "@g.us" in body["message"] and "@lid" in body["message"]


def test_wrong_method_on_a_known_path_is_405_with_allow(default_server):
    response = requests.post(f"{default_server.url}/v2/labels/chats/{CHAT}", params=DOCS, timeout=5)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_errors_never_echo_the_token(default_server):
    secret = "s3cr3t-token-value"
    for params in ({**DOCS, "access_token": secret}, {"access_token": secret}):
        response = get(default_server, f"/v2/labels/chats/{CHAT}", params)
        assert secret not in response.text


def test_a_huge_chat_id_is_a_400_and_the_message_stays_short(default_server):
    response = get(default_server, "/v2/labels/chats/" + "9" * 5000, DOCS)
    body = assert_error(response, 400, "invalid_parameter")
    assert len(body["message"]) < 1000


def test_instances_are_isolated(start_server):
    server = start_server(
        {
            "instances": [
                {
                    "id": "1",
                    "token": "token-one",
                    "session": "one",
                    "labels": [{"id": "1", "name": "Support", "color": 10}],
                    "chats": {"5511999990000@c.us": ["1"]},
                },
                {
                    "id": "2",
                    "token": "token-two",
                    "session": "two",
                    "labels": [{"id": "1", "name": "Sales", "colorHex": "#f74848"}],
                    "chats": {},
                },
            ]
        }
    )
    path = "/v2/labels/chats/5511999990000@c.us"
    one = get(server, path, {"instance_id": "1", "access_token": "token-one"}).json()
    two = get(server, path, {"instance_id": "2", "access_token": "token-two"}).json()
    assert [label["name"] for label in one] == ["Support"]
    assert two == []
    crossed = get(server, path, {"instance_id": "2", "access_token": "token-one"})
    assert_error(crossed, 401, "unauthorized")


def test_a_body_over_the_limit_is_a_413_saying_the_limit(default_server):
    response = requests.post(
        f"{default_server.url}/v2/labels",
        params=DOCS,
        data=b'{"name": "' + b"x" * 70_000 + b'", "color": 1}',
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    body = assert_error(response, 413, "payload_too_large")
    assert "65536 bytes" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2//labels", 404),
        ("GET", "/v2/labels//chats/123@c.us", 404),
        ("GET", "/__admin//health", 404),
        ("GET", "/v2/labels/chats", 401),  # routed (no redirect), then the wrong token
        # OPTIONS under /v2/ and /api/ is a CORS preflight (waha/test_waha_cors.py)
        ("OPTIONS", "/__admin/health", 405),
    ],
)
def test_odd_paths_and_methods_answer_json_and_never_redirect(default_server, method, path, status):
    secret = "s3cr3t-never-echoed"
    response = requests.request(
        method,
        default_server.url + path,
        params={"instance_id": "123456789", "access_token": secret},
        headers={"X-Api-Key": "123456789"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert "Location" not in response.headers
    assert secret not in response.text


def test_a_newline_in_the_path_cannot_forge_a_log_line(default_server, caplog):
    caplog.set_level(logging.INFO, logger="chatlabels.access")
    forged = "1%0A2026-01-01 chatlabels.access GET /forged 200"
    requests.get(f"{default_server.url}/v2/labels/chats/{forged}", params=DOCS, timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "chatlabels.access"]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "%0A" in lines[0]
