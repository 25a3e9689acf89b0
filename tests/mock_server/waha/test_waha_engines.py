"""Engine profiles over real sockets: where WAHA's answer depends on the session's engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from chatlabels.contract.schemas import iter_errors
from chatlabels.mock import FixtureError, parse_fixture
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data

KEY = {"X-Api-Key": "123456789"}
PROVIDER = {"instance_id": "123456789", "access_token": "123456789"}
DETAILED = {
    "labels": ["4"],
    "name": "Maria Souza",
    "timestamp": 1733000000,
    "unreadCount": 2,
    "archived": True,
    "pinned": True,
}


def fixture(engine: str | None, **chats: Any) -> dict[str, Any]:
    data = default_fixture_data()
    if engine is not None:
        data["instances"][0]["engine"] = engine
    data["instances"][0]["chats"].update(chats)
    return data


def get(server: MockServer, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", KEY)
    return requests.get(server.url + path, timeout=5, **kwargs)


def ordered(response: requests.Response) -> list[Any]:
    """The body with key order kept as sent (dicts become lists of pairs)."""
    return json.loads(response.text, object_pairs_hook=list)


def test_webjs_is_the_default_and_answers_whatsapp_web_js_chats(start_server) -> None:
    server = start_server(fixture(None, **{"5511911112222@c.us": DETAILED}))
    response = get(server, "/api/default/labels/4/chats")
    assert response.status_code == 200
    person, group, detailed = response.json()
    assert person == {
        "id": {"server": "c.us", "user": "5511988887777", "_serialized": "5511988887777@c.us"},
        "name": "+5511988887777",
        "isGroup": False,
        "isReadOnly": False,
        "unreadCount": 0,
        "archived": False,
        "pinned": False,
        "isMuted": False,
        "muteExpiration": 0,
    }  # no timestamp: the fixture gives none (undefined in JavaScript, left out)
    group_id = {
        "server": "g.us",
        "user": "120363025246125486",
        "_serialized": group["id"]["_serialized"],
    }
    assert group["id"] == group_id and group["isGroup"] is True
    assert group["groupMetadata"] == {"id": group_id, "subject": "120363025246125486"}
    assert [key for key, _ in ordered(response)[1]][:3] == ["groupMetadata", "id", "name"]
    assert detailed | {"id": None} == {
        "id": None,
        "name": "Maria Souza",
        "isGroup": False,
        "isReadOnly": False,
        "unreadCount": 2,
        "timestamp": 1733000000,
        "archived": True,
        "pinned": True,
        "isMuted": False,
        "muteExpiration": 0,
    }
    assert [key for key, _ in ordered(response)[2]][4:6] == ["unreadCount", "timestamp"]


def test_noweb_answers_store_chats_with_jids_and_no_unread_count(start_server) -> None:
    group = {"labels": ["4"], "name": "Wholesale buyers", "timestamp": 1733000001}
    server = start_server(
        fixture("NOWEB", **{"5511911112222@c.us": DETAILED, "120363025246125486@g.us": group})
    )
    response = get(server, "/api/default/labels/4/chats")
    assert response.status_code == 200
    assert response.json() == [
        {"id": "5511988887777@s.whatsapp.net", "conversationTimestamp": None},
        {
            "id": "120363025246125486@g.us",
            "conversationTimestamp": 1733000001,
            "name": "Wholesale buyers",
        },
        {
            "id": "5511911112222@s.whatsapp.net",
            "conversationTimestamp": 1733000000,
            "name": "Maria Souza",
            "archived": True,
            "pinned": 1733000000,
        },
    ]
    lid = get(server, "/api/default/labels/3/chats").json()
    assert {"id": "203251182247977@lid", "conversationTimestamp": None} in lid


def test_gows_answers_ids_in_c_us_form_whatever_the_fixture_tells(start_server) -> None:
    server = start_server(fixture("GOWS", **{"5511911112222@s.whatsapp.net": DETAILED}))
    response = get(server, "/api/default/labels/4/chats")
    assert response.json() == [
        {"id": "5511988887777@c.us"},
        {"id": "120363025246125486@g.us"},
        {"id": "5511911112222@c.us"},
    ]


@pytest.mark.parametrize("engine", ["NOWEB", "GOWS"])
def test_unknown_label_in_chats_by_label_is_empty_on_noweb_and_gows(start_server, engine) -> None:
    response = get(start_server(fixture(engine)), "/api/default/labels/99/chats")
    assert (response.status_code, response.json()) == (200, [])


def test_unknown_label_in_chats_by_label_is_webjs_500_without_the_key(start_server) -> None:
    """WEBJS fails in the browser page; WAHA's AllExceptionsFilter answers 500."""
    server = start_server()
    response = get(
        server,
        "/api/default/labels/99/chats",
        headers={},
        params={"x-api-key": "123456789", "x": "1"},
    )
    assert response.status_code == 500
    body = response.json()
    assert list(body) == ["statusCode", "timestamp", "exception", "request", "version"]
    assert body["exception"]["name"] == "TypeError"
    assert "labelItemCollection" in body["exception"]["message"]
    assert body["request"] == {
        "path": "/api/default/labels/99/chats?x-api-key=%5Bredacted%5D&x=1",
        "method": "GET",
        "query": {"x-api-key": "[redacted]", "x": "1"},
    }
    assert body["version"]["engine"] == "WEBJS"
    assert not list(iter_errors("waha-error", body))
    assert "123456789" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/default/labels", None),
        ("POST", "/api/default/labels", {"name": "N", "color": 1}),
        ("PUT", "/api/default/labels/3", {"name": "N", "color": 1}),
        ("DELETE", "/api/default/labels/3", None),
        ("GET", "/api/default/labels/chats/5511988887777@c.us", None),
        ("PUT", "/api/default/labels/chats/5511988887777@c.us", {"labels": []}),
        ("GET", "/api/default/labels/3/chats", None),
    ],
)
def test_venom_implements_no_label_call(start_server, method, path, body) -> None:
    server = start_server(fixture("VENOM"))
    response = requests.request(method, server.url + path, headers=KEY, json=body, timeout=5)
    assert (response.status_code, response.json()) == (
        422,
        {
            "message": "The method is not implemented by the engine.",
            "error": "Unprocessable Entity",
            "statusCode": 422,
        },
    )
    # The provider dialect does not expose the engine: it answers as always.
    provider = requests.get(f"{server.url}/v2/labels", params=PROVIDER, timeout=5)
    assert provider.status_code == 200 and len(provider.json()) == 9


def test_provider_dialect_answers_the_same_whatever_the_engine(start_server) -> None:
    answers = set()
    for engine in ["WEBJS", "NOWEB", "GOWS"]:
        server = start_server(fixture(engine, **{"5511911112222@c.us": DETAILED}))
        chats = requests.get(f"{server.url}/v2/labels/4/chats", params=PROVIDER, timeout=5)
        answers.add(chats.text)
    assert len(answers) == 1


def test_chat_object_form_loads_dumps_and_reports_problems_at_its_labels() -> None:
    data = fixture(None, **{"5511911112222": {"labels": ["4"], "name": "Maria"}})
    data["instances"][0]["chats"]["5511933334444@c.us"] = {"isGroup": False}  # labels optional
    server = MockServer(parse_fixture(data), port=0)
    dumped = server.store.dump()["instances"][0]["chats"]
    assert dumped["5511911112222@c.us"] == {"labels": ["4"], "name": "Maria"}
    assert dumped["5511933334444@c.us"] == {"labels": [], "isGroup": False}
    assert dumped["5511988887777@c.us"] == ["3", "4", "6"]  # the list form stays a list
    assert parse_fixture(server.store.dump()) == parse_fixture(server.store.dump())
    data["instances"][0]["chats"]["5511911112222"]["labels"] = ["4", "77"]
    assert problem_pointers(data) == ["/instances/0/chats/5511911112222/labels/1"]
    data["instances"][0]["chats"]["5511911112222"] = {"name": 5, "nickname": "x"}
    assert problem_pointers(data) == ["/instances/0/chats/5511911112222"]


def problem_pointers(data: dict[str, Any]) -> list[str]:
    with pytest.raises(FixtureError) as raised:
        parse_fixture(data)
    return [problem.pointer for problem in raised.value.problems]
