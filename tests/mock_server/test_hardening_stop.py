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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import default_fixture_data
from tests.mock_server.test_server import start

AUTH = {"instance_id": "123456789", "access_token": "123456789"}


def serve(tmp_path: Path, *options: str, latency_ms: int = 0) -> tuple[subprocess.Popen, str]:
    fixture = default_fixture_data()
    if latency_ms:
        fixture["faults"] = [{"match": {"path": "/v2/labels"}, "latency_ms": latency_ms}]
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    return start(sys.executable, "-m", "chatlabels", "serve", f"--fixtures={path}", *options)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    process, url = serve(tmp_path, latency_ms=1500)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(requests.get, f"{url}/v2/labels", params=AUTH, timeout=10)
        time.sleep(0.5)  # the request is in flight, inside its 1.5 s of latency
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        with pytest.raises(requests.ConnectionError):  # no longer accepting
            requests.get(f"{url}/__admin/health", timeout=2)
        assert slow.result().status_code == 200
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_the_grace_period_bounds_the_wait(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--grace-seconds", "0.5", latency_ms=5000)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(requests.get, f"{url}/v2/labels", params=AUTH, timeout=10)
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
        assert time.monotonic() - started < 3
        assert process.returncode == 0
        assert "grace period" in stderr and "Traceback" not in stderr
        with pytest.raises(requests.ConnectionError):
            slow.result()


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
