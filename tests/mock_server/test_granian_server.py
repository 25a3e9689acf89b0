"""granian, the default server of ``chatlabels serve``: what it does, and what it leaves to
waitress (a dropped connection), over real sockets on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.mock.control.faults import DROP_UNSUPPORTED
from chatlabels.mock.serving.granian_server import GranianThread
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data
from tests.mock_server.test_server import start

CHATLABELS = str(Path(sys.executable).parent / "chatlabels")
AUTH = {"instance_id": "123456789", "access_token": "123456789"}
DROP = {"match": {"path": "/v2/labels"}, "drop_connection": True}


@pytest.fixture
def granian() -> Any:
    with MockServer(parse_fixture(default_fixture_data()), server="granian") as server:
        yield server


def test_a_drop_rule_is_refused_with_the_reason(granian: MockServer) -> None:
    answer = requests.post(f"{granian.url}/__admin/faults", json=DROP, timeout=5)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"pointer": "/0/drop_connection", "reason": DROP_UNSUPPORTED}
    ]
    assert requests.get(f"{granian.url}/__admin/faults", timeout=5).json() == {"faults": []}
    fixture = {**default_fixture_data(), "faults": [DROP]}
    loaded = requests.post(f"{granian.url}/__admin/fixture", json=fixture, timeout=5)
    assert loaded.status_code == 422
    assert "/faults/0/drop_connection" in loaded.text and "--server waitress" in loaded.text
    # nothing half-loaded: the labels still answer
    labels = requests.get(f"{granian.url}/v2/labels", params=AUTH, timeout=5)
    assert labels.status_code == 200


def _fixture_file(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps({**default_fixture_data(), **extra}), encoding="utf-8")
    return path


def test_server_granian_with_a_drop_rule_in_the_fixture_is_exit_2(tmp_path: Path) -> None:
    path = _fixture_file(tmp_path, faults=[DROP])
    done = subprocess.run(
        [CHATLABELS, "serve", "--port", "0", "--server", "granian", "--fixtures", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "/faults/0/drop_connection" in done.stderr


def test_auto_serves_a_fixture_that_drops_on_waitress_and_drops(tmp_path: Path) -> None:
    path = _fixture_file(tmp_path, faults=[DROP])
    process, url = start(CHATLABELS, "serve", "--fixtures", str(path))
    try:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", "/v2/labels?instance_id=123456789&access_token=123456789")
        with pytest.raises(http.client.RemoteDisconnected):  # no status line at all
            conn.getresponse()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "HTTP server waitress" in stderr


def test_the_default_is_granian_and_the_environment_is_not_a_header(tmp_path: Path) -> None:
    """granian's own wrapper copies the process environment into each request: a proxy
    variable would read as a ``Proxy`` request header (httpoxy). Not here."""
    environment = {**os.environ, "HTTP_PROXY": "http://attacker.example:1"}
    process = subprocess.Popen(
        [CHATLABELS, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[1]
        answer = requests.get(f"{url}/v2/labels/chats/5511988887777@c.us", params=AUTH, timeout=5)
        assert answer.status_code == 200 and answer.headers["Server"] == "granian"
        [entry] = requests.get(f"{url}/__admin/requests", timeout=5).json()["requests"]
        assert "Proxy" not in entry["headers"] and "attacker" not in json.dumps(entry)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0 and "HTTP server granian" in stderr


def test_stop_lets_the_request_in_flight_finish_and_refuses_newcomers() -> None:
    release = threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/slow":
            release.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    server = GranianThread(slow, port=0)
    assert server.port != 0 and not server.running  # the socket listens before start
    server.start()
    with requests.Session() as session:
        pending = threading.Thread(
            target=lambda: results.append(session.get(f"{server.url}/slow", timeout=10).text)
        )
        results: list[str] = []
        pending.start()
        time.sleep(0.3)
        stopping = threading.Thread(target=server.stop, kwargs={"timeout": 10})
        stopping.start()
        time.sleep(0.3)
        with pytest.raises(requests.RequestException):  # a newcomer is not served
            requests.get(f"{server.url}/fast", timeout=2)
        release.set()
        pending.join(10)
        stopping.join(10)
    assert results == ["done"] and not server.running


def test_drain_reports_requests_cut_off_by_the_grace_period() -> None:
    release = threading.Event()

    def stuck(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(10)
        start_response("200 OK", [])
        return [b""]

    server = GranianThread(stuck, port=0)
    server.start()
    client = threading.Thread(target=lambda: requests.get(server.url, timeout=15), daemon=True)
    client.start()
    time.sleep(0.3)
    try:
        assert server.drain(0.3) is False
        assert server.drain(0.1) is False  # a second call waits again, never blocks
    finally:
        release.set()
    assert server.drain(5) is True
