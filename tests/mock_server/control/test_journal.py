"""The request journal over real sockets: what is recorded, redacted, bounded, filtered."""

from __future__ import annotations

import logging

import pytest
import requests

from chatlabels.mock.control.journal import RequestJournal
from tests.conftest import default_fixture_data

TOKEN = "tok-SECRET-5f1e"
API_KEY = "key-SECRET-77aa"
ADMIN_TOKEN = "adm-SECRET-9c3d"
CHAT = "5511988887777@c.us"


def secret_fixture() -> dict:
    """The default fixture with secrets that cannot be mistaken for any other value."""
    fixture = default_fixture_data()
    fixture["instances"][0].update(token=TOKEN, api_key=API_KEY)
    return fixture


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"instance_id": "123456789", "access_token": token}


@pytest.fixture
def server(default_server):
    """The module's server, reset (state, rules, journal) before each test."""
    requests.post(f"{default_server.url}/__admin/reset", timeout=5).raise_for_status()
    return default_server


def journal(server, **filters) -> list[dict]:
    response = requests.get(f"{server.url}/__admin/requests", params=filters, timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["requests"])
    return body["requests"]


def test_an_entry_says_what_was_sent_and_answered(server) -> None:
    requests.put(
        f"{server.url}/v2/labels/3/chats/5511988887777@s.whatsapp.net",
        params=auth("123456789"),
        timeout=5,
    )
    requests.post(
        f"{server.url}/v2/labels", params=auth("123456789"), json={"name": "Hot", "color": 4}
    )
    link, create = journal(server)
    assert link["method"] == "PUT"
    assert link["path"] == "/v2/labels/3/chats/5511988887777@s.whatsapp.net"
    assert link["status"] == 200
    assert link["instance"] == "123456789"
    assert link["session"] == "default"
    assert link["chat"] == CHAT  # canonical form of the chat the path named
    assert link["query"]["instance_id"] == ["123456789"]
    assert link["duration_ms"] >= 0
    assert link["faults"] == []
    assert link["time"].endswith("+00:00")
    assert create["status"] == 201
    assert create["body"] == '{"name": "Hot", "color": 4}'
    assert create["id"] > link["id"]


def test_admin_calls_are_not_journaled_but_unknown_paths_are(server) -> None:
    requests.get(f"{server.url}/__admin/health", timeout=5)
    requests.get(f"{server.url}/nowhere", timeout=5)
    entries = journal(server)
    assert [(e["path"], e["status"]) for e in entries] == [("/nowhere", 404)]


def test_no_secret_reaches_the_journal_or_the_log(start_server, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="chatlabels")  # the admin read is a debug line
    server = start_server(secret_fixture(), admin_token=ADMIN_TOKEN)
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    url = server.url
    requests.get(f"{url}/v2/labels/chats/{CHAT}", params=auth(), timeout=5)
    requests.get(
        f"{url}/v2/labels", params={"instance_id": "123456789"}, headers={"access-token": TOKEN}
    )
    requests.get(f"{url}/v2/labels", params=auth(TOKEN + "-wrong"), timeout=5)
    requests.get(f"{url}/api/default/labels", headers={"X-Api-Key": API_KEY}, timeout=5)
    requests.get(f"{url}/api/default/labels", params={"x-api-key": API_KEY}, timeout=5)
    requests.get(f"{url}/v2/labels", params=auth(), headers={"Authorization": f"Bearer {TOKEN}"})
    response = requests.get(f"{url}/__admin/requests", headers=admin, timeout=5)
    assert response.status_code == 200
    assert len(response.json()["requests"]) == 6
    for text in (response.text, caplog.text):
        for secret in (TOKEN, API_KEY, ADMIN_TOKEN):
            assert secret not in text
    assert "[redacted]" in response.text and "redacted" in caplog.text
    access_lines = [r for r in caplog.records if r.name == "chatlabels.access"]
    assert len(access_lines) == 7  # one line per request, the admin call included
    assert [r.levelno for r in access_lines] == [logging.INFO] * 6 + [logging.DEBUG]


def test_the_journal_keeps_only_the_most_recent_entries(start_server) -> None:
    server = start_server(journal_size=5)
    for i in range(12):
        requests.get(f"{server.url}/v2/labels/{i + 1}", params=auth("123456789"), timeout=5)
    entries = journal(server)
    assert [e["path"] for e in entries] == [f"/v2/labels/{i}" for i in range(8, 13)]
    health = requests.get(f"{server.url}/__admin/health", timeout=5).json()
    assert health["journal"] == {"entries": 5, "max": 5}


def test_filters_by_path_glob_instance_method_and_limit(server) -> None:
    url = server.url
    requests.get(f"{url}/v2/labels", params=auth("123456789"), timeout=5)
    requests.get(f"{url}/v2/labels/chats/{CHAT}", params=auth("123456789"), timeout=5)
    requests.put(f"{url}/v2/labels/1/chats/{CHAT}", params=auth("123456789"), timeout=5)
    requests.get(f"{url}/api/sales/labels", headers={"X-Api-Key": "987654321"}, timeout=5)
    requests.get(f"{url}/v2/labels", params=auth("987654321") | {"instance_id": "987654321"})

    assert [e["path"] for e in journal(server, path="/v2/labels/chats/*")] == [
        f"/v2/labels/chats/{CHAT}"
    ]
    assert len(journal(server, path="*/chats/*")) == 2
    assert len(journal(server, instance="123456789")) == 3
    by_session = journal(server, instance="sales")
    assert [e["path"] for e in by_session] == ["/api/sales/labels", "/v2/labels"]
    assert journal(server, instance="987654321") == by_session
    assert [e["method"] for e in journal(server, method="put")] == ["PUT"]
    assert [e["path"] for e in journal(server, limit=2)] == ["/api/sales/labels", "/v2/labels"]


def test_clear_forgets_everything(server) -> None:
    requests.get(f"{server.url}/v2/labels", params=auth("123456789"), timeout=5)
    response = requests.delete(f"{server.url}/__admin/requests", timeout=5)
    assert response.status_code == 200 and response.json()["success"] is True
    assert journal(server) == []


@pytest.mark.parametrize("limit", ["0", "x", "-3"])
def test_a_bad_limit_is_a_400_not_a_guess(default_server, limit: str) -> None:
    response = requests.get(f"{default_server.url}/__admin/requests?limit={limit}", timeout=5)
    assert response.status_code == 400
    assert "limit" in response.json()["message"]


def test_the_ring_drops_oldest_first_and_copies_out() -> None:
    ring = RequestJournal(maxlen=3)
    for i in range(5):
        ring.record({"method": "GET", "path": f"/p{i}", "instance": None, "session": None})
    entries = ring.entries()
    assert [e["path"] for e in entries] == ["/p2", "/p3", "/p4"]
    assert [e["id"] for e in entries] == [3, 4, 5]
    entries[0]["path"] = "/changed"
    assert ring.entries()[0]["path"] == "/p2"
    assert ring.clear() == 3 and len(ring) == 0
    with pytest.raises(ValueError):
        RequestJournal(maxlen=0)


def test_a_request_refused_by_the_waha_key_guard_is_journaled_and_timed(server) -> None:
    response = requests.get(f"{server.url}/api/default/labels", timeout=5)
    assert response.status_code == 401
    (entry,) = journal(server, path="/api/default/labels")
    assert entry["status"] == 401 and entry["session"] == "default"
    assert entry["duration_ms"] >= 0
