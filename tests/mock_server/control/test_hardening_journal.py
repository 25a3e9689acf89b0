"""The journal bounded in bytes as well as entries, over real sockets to 127.0.0.1.

Issue 12's row: 1000 requests with 12,000 query parameters each took 2.35 GB, since the
journal was bounded by entry count only.
"""

from __future__ import annotations

import json

import requests

from chatlabels.mock.app import app_state
from chatlabels.mock.control.journal import MAX_FIELD_CHARS

AUTH = {"instance_id": "123456789", "access_token": "123456789"}


def test_big_fields_keep_a_prefix_and_say_so(start_server) -> None:
    server = start_server()
    response = requests.get(
        f"{server.url}/v2/labels",
        params={**AUTH, "long": "q" * 6000},
        headers={"X-Long": "h" * 6000},
        timeout=5,
    )
    assert response.status_code == 200
    (entry,) = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"]
    assert set(entry["cut"]) == {"query", "headers"}
    assert entry["query"]["long"][0].startswith("q" * MAX_FIELD_CHARS)
    assert entry["query"]["long"][0].endswith("...[cut, 6000 characters]")
    assert len(entry["headers"]["X-Long"]) < MAX_FIELD_CHARS + 40
    assert entry["query"]["access_token"] == ["[redacted]"]


def test_the_journal_stays_within_its_bytes(start_server) -> None:
    server = start_server(journal_bytes=100_000)
    params = {**AUTH, **{f"p{i}": "v" * 100 for i in range(95)}}  # about 12 KB an entry
    for _ in range(60):
        requests.get(f"{server.url}/v2/labels", params=params, timeout=5).raise_for_status()
    journal = app_state(server.app).control.journal
    held = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"]
    assert 1 < len(held) < 60  # the oldest went first
    assert held[-1]["id"] == 60
    assert sum(len(json.dumps(e)) for e in held) <= 100_000 + 200 * len(held)
    health = requests.get(f"{server.url}/__admin/health", timeout=5).json()
    assert health["journal_bytes"] == {"used": journal.bytes, "max": 100_000}
    assert journal.bytes <= 100_000
