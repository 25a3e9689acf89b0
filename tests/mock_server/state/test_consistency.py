"""One consistent state under concurrent reads and writes, over real sockets.

Readers hammer Get Chat Labels (both dialects, so the fast path too) on 15 connections while
a writer links and unlinks one label on the same chat. Every read must return a state that
existed (the chat without the label or with it at the end, never anything else), and a read
sent after a write was answered, with no other write sent yet, must return exactly the state
that write left. On both servers: granian (the default of ``chatlabels serve``, where the
fast path keeps its decisions per state) and waitress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from chatlabels.mock.serving.server import MockServer

CHAT = "5511988887777%40c.us"
AUTH = {"instance_id": "123456789", "access_token": "123456789"}
WRITES = 60
READERS = 15


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_every_read_sees_a_whole_state_and_every_answered_write(
    start_server: Callable[..., MockServer], server_name: str
) -> None:
    server = start_server(server=server_name)
    provider = f"{server.url}/v2/labels/chats/{CHAT}"
    waha = f"{server.url}/api/default/labels/chats/{CHAT}"
    link = f"{server.url}/v2/labels/1/chats/{CHAT}"
    without = requests.get(provider, params=AUTH, timeout=10).json()
    assert "1" not in [label["id"] for label in without]
    with_label = [*without, requests.get(f"{server.url}/v2/labels/1", params=AUTH).json()]
    states = [without, with_label]  # after k writes the chat is in states[k % 2]

    lock = threading.Lock()
    counts = {"started": 0, "answered": 0}
    done = threading.Event()
    problems: list[str] = []
    strict_reads = [0]

    def read(index: int) -> None:
        session = requests.Session()
        url, kwargs = (provider, {"params": AUTH})
        if index % 2:
            url, kwargs = (waha, {"headers": {"X-Api-Key": "123456789"}})
        while not done.is_set():
            with lock:
                answered_before = counts["answered"]
            body: Any = session.get(url, timeout=10, **kwargs).json()
            with lock:
                started_after = counts["started"]
            if body not in states:
                problems.append(f"a state that never existed: {body}")
            elif not any(states[k % 2] == body for k in range(answered_before, started_after + 1)):
                problems.append(f"missed write {answered_before}: read {body}")
            elif answered_before == started_after:
                with lock:
                    strict_reads[0] += 1

    readers = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for reader in readers:
        reader.start()
    writer = requests.Session()
    try:
        for k in range(1, WRITES + 1):
            with lock:
                counts["started"] = k
            method = writer.put if k % 2 else writer.delete
            assert method(link, params=AUTH, timeout=10).status_code == 200
            with lock:
                counts["answered"] = k
                strict_before = strict_reads[0]
            # A quiet moment, until some read started after this answer has come back:
            # such reads must see exactly this write.
            for _ in range(400):
                if done.wait(0.005) or strict_reads[0] > strict_before:
                    break
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=30)
    assert not problems, problems[:5]
    assert strict_reads[0] >= WRITES // 2  # the exact read-after-write case was exercised
