"""Fidelity: the ``waha`` client from PyPI, unchanged, against the mock's WAHA dialect.

``waha`` (PyPI, 1.0.5 when written; in the ``test`` extra) has two label calls: ``labels.list``
(sync and async) and ``labels.create`` (sync). Each runs here as a user would call it, so a
client upgrade, or a mock change, that breaks a real client is noticed. The rest of WAHA's
label routes have no call in any Python client on PyPI that we found usable; their own tests
(tests/mock_server/test_waha_*.py) follow WAHA's source instead.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chatlabels.mock.serving.server import MockServer
from tests.conftest import FIXTURES_DIR

waha = pytest.importorskip("waha", reason="the waha client is in the test extra")

KEY = "123456789"
PROVIDER = {"instance_id": "123456789", "access_token": "123456789"}


def client(server: MockServer, key: str | None = KEY) -> waha.WahaClient:
    return waha.WahaClient(base_url=server.url, api_key=key, timeout=5)


def test_list_returns_the_sessions_labels(default_server: MockServer) -> None:
    with client(default_server) as sync:
        labels = sync.labels.list()
    assert labels[0] == {"id": "1", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}
    assert [label["id"] for label in labels] == [str(i) for i in range(1, 10)]


def test_async_list_returns_the_same(default_server: MockServer) -> None:
    async def listed() -> object:
        async with waha.AsyncWahaClient(base_url=default_server.url, api_key=KEY) as client:
            return await client.labels.list()

    # In a thread of its own: the browser tests' Playwright may hold an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool, client(default_server) as sync:
        assert pool.submit(asyncio.run, listed()).result(timeout=30) == sync.labels.list()


def test_create_makes_a_label_both_dialects_see(start_server) -> None:
    server = start_server()
    with client(server) as sync:
        created = sync.labels.create("Lead", color=13)
        default_color = sync.labels.create("Cold")  # the client sends color 0 by default
    assert created == {"id": "10", "name": "Lead", "color": 13, "colorHex": "#f74848"}
    assert default_color["color"] == 0
    provider = requests.get(f"{server.url}/v2/labels", params=PROVIDER, timeout=5).json()
    assert provider[-2:] == [created, default_color]


def test_wahas_label_rules_reach_the_client_as_its_errors(start_server) -> None:
    with client(start_server()) as sync, pytest.raises(waha.WahaAPIError) as taken:
        sync.labels.create("VIP", color=1)
    assert (taken.value.status_code, taken.value.message) == (
        422,
        "Label with 'VIP' already exists, id: 3",
    )
    full = json.loads((FIXTURES_DIR / "full-account.json").read_text("utf-8"))
    with client(start_server(full)) as sync, pytest.raises(waha.WahaAPIError) as limit:
        sync.labels.create("Fresh", color=1)
    assert (limit.value.status_code, limit.value.message) == (422, "Maximum 20 labels allowed")


def test_a_wrong_key_raises_the_clients_authentication_error(default_server) -> None:
    with client(default_server, key="wrong") as sync, pytest.raises(waha.WahaAuthenticationError):
        sync.labels.list()


def test_a_session_not_working_raises_with_wahas_message(default_server) -> None:
    with (
        client(default_server, key="987654321") as sync,
        pytest.raises(waha.WahaAPIError) as raised,
    ):
        sync.labels.list(session="sales")
    # WAHA's session-status object has no "message": the client falls back to the status.
    assert (raised.value.status_code, raised.value.message) == (422, "HTTP 422")


def test_an_invalid_colour_raises_with_wahas_message(default_server) -> None:
    with client(default_server) as sync, pytest.raises(waha.WahaAPIError) as raised:
        sync.labels.create("Lead", color=None)  # type: ignore[arg-type]
    assert raised.value.status_code == 422
    assert raised.value.message == "'color' or 'colorHex' is required"
