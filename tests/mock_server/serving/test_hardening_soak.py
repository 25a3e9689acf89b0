"""Soak: a stream of writes while the webhook receiver hangs; every bound must hold.

Issue 12's row: a receiver that hangs or is down for 60 s of writes took the server from 42
to 361 MiB (the delivery queue was unbounded) and the API's p99 to 339 ms. Here a few seconds
of writes from 4 clients against a receiver that never answers: the queue stays at its bound
and says what it dropped, the journal stays at its bound, and the writes stay fast.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from chatlabels.mock.app import app_state
from tests.conftest import default_fixture_data
from tests.webhook_receiver import Receiver

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
SECONDS = 6.0


def test_a_hanging_receiver_under_a_stream_of_writes(start_server, receiver: Receiver) -> None:
    receiver.hang.set()
    fixture = default_fixture_data()
    fixture["instances"][0]["webhooks"] = [
        {"url": f"{receiver.url}/hook", "retries": {"attempts": 0, "delaySeconds": 0}}
    ]
    server = start_server(fixture, webhook_queue=50, journal_size=200, journal_bytes=50_000)
    webhooks = app_state(server.app).control.webhooks
    webhooks.timeout = 2.0  # so that the test ends soon after
    journal = app_state(server.app).control.journal

    def writer(number: int) -> list[float]:
        session, timings, flip = requests.Session(), [], False
        url = f"{server.url}/v2/labels/{number + 1}/chats/5511999990000@c.us"
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = session.request("DELETE" if flip else "PUT", url, params=AUTH, timeout=5)
            timings.append(time.perf_counter() - started)
            assert response.status_code in {200, 204}, response.text
            flip = not flip
            stats = webhooks.stats()
            assert stats["pending"] <= 50
        return timings

    with ThreadPoolExecutor(max_workers=4) as pool:
        timings = [t for each in pool.map(writer, range(4)) for t in each]

    stats = webhooks.stats()
    assert stats["pending"] <= 50 and stats["dropped"] > 0, stats
    assert len(journal) <= 200 and journal.bytes <= 50_000
    dropped = webhooks.deliveries()
    assert any(d["outcome"] == "dropped" and "--webhook-queue" in d["error"] for d in dropped)
    health = requests.get(f"{server.url}/__admin/health", timeout=5).json()
    assert health["webhooks"]["dropped"] >= stats["dropped"]
    # The receiver never answered, yet the API answered every write promptly.
    assert len(timings) > 100
    p99 = statistics.quantiles(timings, n=100)[98]
    assert p99 < 1.0, f"p99 {p99:.3f} s over {len(timings)} writes"
