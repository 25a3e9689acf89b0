"""The bounds that used to be fixed, each set by its option and met with a hostile input.

Issue 12: every bound is named, with a default and an option. These were fixed numbers: the
problems a report lists (20, of 300 characters each), what a journal entry keeps of one
field (4096 characters, 100 items) and the webhook delivery log (the last 1000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from chatlabels.mock.limits import ServerLimits
from tests.conftest import default_fixture_data
from tests.webhook_receiver import Receiver

AUTH = {"instance_id": "123456789", "access_token": "123456789"}


def wrong_everywhere(chats: int) -> dict[str, Any]:
    """A fixture whose every chat names a label that does not exist: one problem each."""
    fixture = default_fixture_data()
    fixture["instances"][0]["chats"] = {f"55119{i:08d}@c.us": ["999"] for i in range(chats)}
    return fixture


def test_a_422_lists_max_problems_each_cut_to_max_problem_chars(start_server) -> None:
    server = start_server(limits=ServerLimits(max_problems=5, max_problem_chars=40))
    bad = wrong_everywhere(2000)
    response = requests.post(f"{server.url}/__admin/fixture", json=bad, timeout=30)
    answer = response.json()
    assert response.status_code == 422 and answer["error"] == "invalid_fixture"
    assert len(answer["problems"]) == 5
    assert all(len(problem["reason"]) <= 40 for problem in answer["problems"])
    assert answer["problems"][0]["reason"].endswith("... (cut)")
    assert answer["message"].endswith("; and 1995 more problems (fix these first)")
    rules = [{"match": {"path": 1}} for _ in range(50)]  # fault rules: the same bound
    answer = requests.post(f"{server.url}/__admin/faults", json=rules, timeout=10).json()
    assert answer["error"] == "invalid_fault_rule" and len(answer["problems"]) == 5


def test_a_bad_fixture_file_at_start_lists_max_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(wrong_everywhere(2000)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "chatlabels", "serve", "--port", "0", "--fixtures", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CHATLABELS_MAX_PROBLEMS": "3"},
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 + 3 + 1, done.stderr  # the heading, 3 problems, "and K more"
    assert lines[-1].endswith("and 1997 more problems (fix these first)")


def test_a_journal_entry_keeps_journal_field_chars_and_items(start_server) -> None:
    server = start_server(limits=ServerLimits(journal_field_chars=64, journal_field_items=5))
    params = {**AUTH, **{f"p{i}": "v" for i in range(60)}}
    response = requests.post(
        f"{server.url}/v2/labels",
        params=params,
        headers={"X-Long": "h" * 1000},
        data="b" * 5000,
        timeout=10,
    )
    assert response.status_code < 500
    (entry,) = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"]
    assert set(entry["cut"]) == {"query", "headers", "body"}
    assert list(entry["query"]) == ["instance_id", "access_token", "p0", "p1", "p2"]
    assert len(entry["headers"]) == 5
    assert entry["body"] == "b" * 64 + "...[cut, 5000 characters]"


def test_the_webhook_log_keeps_the_last_webhook_log_deliveries(
    start_server, receiver: Receiver
) -> None:
    fixture = default_fixture_data()
    fixture["instances"][0]["webhooks"] = [
        {"url": f"{receiver.url}/hook", "retries": {"attempts": 0, "delaySeconds": 0}}
    ]
    server = start_server(fixture, limits=ServerLimits(webhook_log=3))
    for n in range(10):
        requests.put(
            f"{server.url}/v2/labels/1/chats/55119999900{n:02d}@c.us", params=AUTH, timeout=5
        ).raise_for_status()
    deadline = time.monotonic() + 20
    while len(receiver.requests) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = [r["headers"]["X-Webhook-Request-Id"] for r in receiver.requests]
    log = requests.get(f"{server.url}/__admin/webhooks", timeout=5).json()
    assert len(sent) == 10 and log["count"] == 3
    assert [d["requestId"] for d in log["deliveries"]] == sent[-3:]
