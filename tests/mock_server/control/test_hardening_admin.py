"""The control API under attack from web pages, over real sockets to 127.0.0.1 only.

Issue 12's rows: DNS rebinding, a ``text/plain`` fixture POST from a foreign origin, secrets in
the fixture dump, long-polls that starve the API.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from chatlabels.mock.app import app_state
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
ADMIN_TOKEN = "adm-SECRET-77f0"


def admin(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{server.url}/__admin{path}", timeout=10, **kwargs)


@pytest.fixture
def server(default_server: MockServer) -> MockServer:
    admin(default_server, "POST", "/fixture", json=default_fixture_data()).raise_for_status()
    admin(default_server, "POST", "/reset").raise_for_status()
    return default_server


@pytest.mark.parametrize("method, path", [("POST", "/reset"), ("GET", "/fixture")])
def test_a_rebound_dns_name_is_refused(server: MockServer, method: str, path: str) -> None:
    """A page at rebind.attacker.example whose name now resolves to 127.0.0.1 sends
    same-origin requests: Host and Origin agree, and both name the attacker."""
    requests.put(
        f"{server.url}/v2/labels/1/chats/5511999990000@c.us", params=AUTH, timeout=5
    ).raise_for_status()
    name = f"rebind.attacker.example:{server.port}"
    headers = {"Host": name, "Origin": f"http://{name}"}
    response = admin(server, method, path, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden_host"
    assert "123456789" not in response.text and "--public-host" in response.text
    without_origin = admin(server, method, path, headers={"Host": name})
    assert without_origin.status_code == 403
    # Nothing was reset: the link made above is still there.
    chat = requests.get(f"{server.url}/v2/labels/chats/5511999990000@c.us", params=AUTH, timeout=5)
    assert [label["id"] for label in chat.json()] == ["1"]


def test_a_text_plain_fixture_post_from_a_foreign_origin_is_refused(server: MockServer) -> None:
    """The request a <form enctype=text/plain> or a no-cors fetch sends: no preflight."""
    hijack = default_fixture_data()
    hijack["instances"][0]["webhooks"] = [{"url": "http://evil.example/hook"}]
    response = admin(
        server,
        "POST",
        "/fixture",
        data=json.dumps(hijack),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert response.status_code == 403 and response.json()["error"] == "cross_origin"
    assert app_state(server.app).control.dump()["instances"][0]["webhooks"] == []
    null_origin = admin(server, "POST", "/reset", headers={"Origin": "null"})
    assert null_origin.status_code == 403


@pytest.mark.parametrize(
    "host, origin",
    [
        ("127.0.0.1", None),
        ("localhost", "http://localhost:3000"),
        ("app.localhost", "http://127.0.0.1:5173"),
        ("[::1]", "http://[::1]:8000"),
    ],
)
def test_loopback_hosts_and_origins_are_accepted(
    server: MockServer, host: str, origin: str | None
) -> None:
    headers = {"Host": f"{host}:{server.port}"}
    if origin:
        headers["Origin"] = origin
    assert admin(server, "POST", "/reset", headers=headers).status_code == 200


def test_a_configured_public_name_is_accepted(start_server) -> None:
    server = start_server(public_hosts=("mock.internal",))
    ok = admin(server, "POST", "/reset", headers={"Host": f"mock.internal:{server.port}"})
    assert ok.status_code == 200
    other = admin(server, "POST", "/reset", headers={"Host": f"other.internal:{server.port}"})
    assert other.status_code == 403


def _fixture_with_secrets() -> dict[str, Any]:
    data = default_fixture_data()
    data["instances"][0]["api_key"] = "waha-KEY-5b9e"
    data["instances"][0]["webhooks"] = [
        {
            "url": "http://127.0.0.1:9/hook",
            "hmac": {"key": "hmac-KEY-0c1d"},
            "customHeaders": [
                {"name": "Authorization", "value": "Bearer hook-TOKEN-e2f3"},
                {"name": "X-Source", "value": "chatlabels"},
            ],
        }
    ]
    return data


SECRETS = ("waha-KEY-5b9e", "hmac-KEY-0c1d", "hook-TOKEN-e2f3")


def test_the_fixture_dump_redacts_secrets_and_loads_back(start_server) -> None:
    server = start_server(_fixture_with_secrets())
    response = admin(server, "GET", "/fixture")
    assert response.status_code == 200
    for secret in SECRETS:
        assert secret not in response.text
    dumped = response.json()
    first = dumped["instances"][0]
    assert (first["token"], first["api_key"]) == ("[redacted]", "[redacted]")
    assert first["webhooks"][0]["hmac"]["key"] == "[redacted]"
    assert first["webhooks"][0]["customHeaders"][1]["value"] == "chatlabels"
    refused = admin(server, "GET", "/fixture", params={"secrets": "true"})
    assert refused.status_code == 403 and refused.json()["error"] == "secrets_need_admin_token"

    # Loading the redacted dump back keeps every secret it stands for.
    assert admin(server, "POST", "/fixture", json=dumped).status_code == 200
    full = app_state(server.app).control.dump()
    assert full["instances"][0]["api_key"] == "waha-KEY-5b9e"
    assert full["instances"][0]["webhooks"][0]["hmac"]["key"] == "hmac-KEY-0c1d"
    labels = requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=5)
    assert labels.status_code == 200

    # A marker with no current secret behind it (a new instance id) is a problem.
    dumped["instances"][0]["id"] = "555"
    unknown = admin(server, "POST", "/fixture", json=dumped)
    assert unknown.status_code == 422
    pointers = {p["pointer"] for p in unknown.json()["problems"]}
    assert "/instances/0/token" in pointers


def test_secrets_are_shown_to_the_admin_token_only_on_request(start_server) -> None:
    server = start_server(_fixture_with_secrets(), admin_token=ADMIN_TOKEN)
    token = {"X-Admin-Token": ADMIN_TOKEN}
    plain = admin(server, "GET", "/fixture", headers=token)
    assert all(secret not in plain.text for secret in SECRETS)
    full = admin(server, "GET", "/fixture", params={"secrets": "true"}, headers=token)
    assert full.status_code == 200 and all(secret in full.text for secret in SECRETS)
    anonymous = admin(server, "GET", "/fixture", params={"secrets": "true"})
    assert anonymous.status_code == 401 and ADMIN_TOKEN not in anonymous.text


def timed_reads(base_url: str) -> list[float]:
    """Seconds each of 5 plain reads took (each must answer 200)."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        answer = requests.get(f"{base_url}/v2/labels", params=AUTH, timeout=30)
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 200
    return timings


def assert_long_polls_leave_the_api_free(base_url: str, *, waiting: int) -> None:
    """Start 20 long-polls: at most ``waiting`` of them wait, the others are refused at once,
    and a plain read meanwhile is answered while they wait, and about as fast as without
    them: under 100 ms, or twice the fastest read before the polls on a machine so loaded
    that even those took over 50 ms."""
    baseline = min(timed_reads(base_url))
    url = f"{base_url}/__admin/webhooks"
    with ThreadPoolExecutor(max_workers=20) as pool:
        polls = [
            pool.submit(requests.get, url, params={"wait": 1, "timeout": 3}, timeout=30)
            for _ in range(20)
        ]
        # A poll refused: the slots are full, and stay so for the waiting polls' 3 s (a
        # fixed 0.3 s sleep did not ensure that on a loaded machine). Read at once, not
        # after all the refusals: those would eat into the 3 s.
        deadline = time.monotonic() + 30
        while not any(poll.done() for poll in polls):
            assert time.monotonic() < deadline, "no long-poll was refused in 30 s"
            time.sleep(0.01)
        timings = timed_reads(base_url)
        held = [not poll.done() for poll in polls]
        statuses = [poll.result().status_code for poll in polls]
    waited = [i for i, status in enumerate(statuses) if status == 200]
    assert 1 <= len(waited) <= waiting and statuses.count(429) >= 20 - waiting, statuses
    # Starved, the reads would have been answered only once the polls ended (3 s).
    assert all(held[i] for i in waited), (held, statuses, timings)
    assert min(timings) < max(0.1, 2 * baseline), (timings, baseline)


@pytest.mark.parametrize("server_name", ["waitress", "granian"])
def test_long_polls_cannot_starve_the_api(start_server, server_name: str) -> None:
    """20 parallel long-polls (any web page can start them with <img> tags): at most
    max_long_polls wait, the others are refused at once, and the API stays responsive."""
    server = start_server(max_long_polls=2, max_wait_seconds=3.0, server=server_name)
    assert_long_polls_leave_the_api_free(server.url, waiting=2)
    url = f"{server.url}/__admin/webhooks"
    too_long = requests.get(url, params={"wait": 1, "timeout": 4}, timeout=10)
    assert too_long.status_code == 400 and "3.0" in too_long.json()["message"]
