"""`chatlabels serve` stopping and staying quiet, as a real process on 127.0.0.1.

Issue 12's rows: SIGTERM with a request in flight (the client got no answer), ``--quiet`` that
still printed waitress's "Task queue depth" lines.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import default_fixture_data
from tests.mock_server.serving.test_server import start

AUTH = {"instance_id": "123456789", "access_token": "123456789"}


def serve(tmp_path: Path, *options: str, latency_ms: int = 0) -> tuple[subprocess.Popen, str]:
    """``chatlabels serve`` on a fixture whose one fault delays the next /v2/labels request
    by ``latency_ms`` (``times: 1``: the rule is spent, so gone from /__admin/faults, as
    soon as that request is inside the server)."""
    fixture = default_fixture_data()
    if latency_ms:
        rule = {"match": {"path": "/v2/labels"}, "latency_ms": latency_ms, "times": 1}
        fixture["faults"] = [rule]
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    return start(sys.executable, "-m", "chatlabels", "serve", f"--fixtures={path}", *options)


def wait_until_in_flight(url: str, slow: Future[requests.Response]) -> None:
    """Return once the slow request is inside the server, in its latency (a fixed sleep
    was not enough on a loaded machine: the signal could come before the request)."""
    deadline = time.monotonic() + 30
    while requests.get(f"{url}/__admin/faults", timeout=10).json()["faults"]:
        assert not slow.done() and time.monotonic() < deadline, "the slow request never arrived"
        time.sleep(0.02)


def refused(url: str) -> bool:
    """Poll until a new connection is refused (True), or 30 s pass (False)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/__admin/health", timeout=5)
        except requests.ConnectionError:
            return True
        time.sleep(0.02)
    return False


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    process, url = serve(tmp_path, latency_ms=4000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(requests.get, f"{url}/v2/labels", params=AUTH, timeout=30)
        wait_until_in_flight(url, slow)
        process.send_signal(signal.SIGTERM)
        # Newcomers are refused while the request in flight still runs (its 4 s are the
        # margin for a loaded machine to deliver the signal and close the listener).
        assert refused(url) and not slow.done()
        assert slow.result().status_code == 200
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_the_grace_period_bounds_the_wait(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--grace-seconds", "0.5", latency_ms=9000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(requests.get, f"{url}/v2/labels", params=AUTH, timeout=30)
        wait_until_in_flight(url, slow)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        # Gone after the 0.5 s grace, long before the request's 9 s (margin for a slow exit).
        assert time.monotonic() - started < 5
        assert process.returncode == 0
        assert "grace period" in stderr and "Traceback" not in stderr
        with pytest.raises(requests.ConnectionError):
            slow.result()


def test_a_waiting_long_poll_answers_at_once_on_sigterm(tmp_path: Path) -> None:
    """A long-poll asked to wait 30 s would hold the 10 s grace period whole: on SIGTERM it
    answers at once, not satisfied, and the process ends long before the grace is over."""
    process, url = serve(tmp_path, "--max-long-polls", "1")
    poll_url = f"{url}/__admin/webhooks"
    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(requests.get, poll_url, params={"wait": 1, "timeout": 30}, timeout=60)
        deadline = time.monotonic() + 30
        # the one long-poll slot taken: the first poll is waiting inside the server
        while requests.get(poll_url, params={"wait": 1, "timeout": 0}, timeout=10).ok:
            assert not poll.done() and time.monotonic() < deadline, "the poll never waited"
            time.sleep(0.02)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        answer = poll.result()
        _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - started < 5  # the grace period is 10 s
    assert answer.status_code == 200
    waited = answer.json()["waited"]
    assert waited["satisfied"] is False and "the mock is stopping" in waited["message"]
    assert process.returncode == 0 and "grace period" not in stderr, stderr


def test_quiet_prints_nothing_but_the_ready_line(tmp_path: Path) -> None:
    """One worker thread and 16 clients: waitress warns "Task queue depth" unless quiet."""
    process, url = serve(tmp_path, "--quiet", "--threads", "1")
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            fetches = [
                pool.submit(requests.get, f"{url}/v2/labels", params=AUTH, timeout=10)
                for _ in range(300)
            ]
            assert {f.result().status_code for f in fetches} == {200}
        requests.get(f"{url}/nowhere", timeout=5)  # a 404 is an answer, not an error
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert (stdout, stderr) == ("", "")
