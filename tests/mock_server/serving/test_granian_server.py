"""granian, the default server of ``chatlabels serve``: what it does, and what it leaves to
waitress (a dropped connection), over real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.mock.control.faults import DROP_UNSUPPORTED
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.granian_server import GranianThread
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data, owned_by_the_test
from tests.mock_server.control.test_hardening_admin import assert_long_polls_leave_the_api_free
from tests.mock_server.serving.test_server import start

CHATLABELS = str(Path(sys.executable).parent / "chatlabels")
AUTH = {"instance_id": "123456789", "access_token": "123456789"}
DROP = {"match": {"path": "/v2/labels"}, "drop_connection": True}


@pytest.fixture
def granian() -> Any:
    with MockServer(parse_fixture(default_fixture_data()), server="granian") as server:
        yield server


@pytest.fixture
def granian_one_worker() -> Any:
    fixture = parse_fixture(default_fixture_data())
    with MockServer(fixture, server="granian", threads=1) as server:
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
    assert process.returncode == 0 and " chatlabels HTTP server granian" in stderr
    assert "chatlabels chatlabels" not in stderr  # the logger's name, then the message


def test_stop_lets_the_request_in_flight_finish_and_refuses_newcomers() -> None:
    arrived, release = threading.Event(), threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/slow":
            arrived.set()
            release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    server = GranianThread(slow, port=0)
    assert server.port != 0 and not server.running  # the socket listens before start
    server.start()
    with requests.Session() as session:
        pending = threading.Thread(
            target=lambda: results.append(session.get(f"{server.url}/slow", timeout=60).text)
        )
        results: list[str] = []
        pending.start()
        assert arrived.wait(30)  # in flight, held until released
        stopping = threading.Thread(target=server.stop, kwargs={"timeout": 60})
        stopping.start()
        # Until stop() takes effect a newcomer may still be served; then none is, while the
        # request in flight is still held (a fixed 0.3 s was too short on a loaded machine).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{server.url}/fast", timeout=2)
            except requests.RequestException:
                break
            time.sleep(0.02)
        else:
            pytest.fail("newcomers were still served 30 s after stop()")
        release.set()
        pending.join(60)
        stopping.join(60)
    assert results == ["done"] and not server.running


def test_drain_reports_requests_cut_off_by_the_grace_period() -> None:
    arrived, release = threading.Event(), threading.Event()

    def stuck(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        arrived.set()
        release.wait(30)
        start_response("200 OK", [])
        return [b""]

    server = GranianThread(stuck, port=0)
    server.start()
    client = threading.Thread(target=lambda: requests.get(server.url, timeout=60), daemon=True)
    client.start()
    assert arrived.wait(30)  # in flight (a fixed 0.3 s sleep did not ensure it under load)
    try:
        assert server.drain(0.3) is False
        assert server.drain(0.1) is False  # a second call waits again, never blocks
    finally:
        release.set()
    assert server.drain(30) is True  # answered once released


def test_immediate_answers_never_wait_for_the_worker_threads() -> None:
    """Both worker threads held by the app: what ``immediate`` answers is still answered at
    once, on granian's own thread; the rest waits for a worker, in order."""
    held, release = threading.Semaphore(0), threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        held.release()
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    def immediate(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        if environ["PATH_INFO"] != "/fast":
            return None
        return 200, [("Content-Type", "text/plain")], threading.current_thread().name.encode()

    server = GranianThread(slow, port=0, threads=2, immediate=immediate)
    server.start()
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            slow_answers = [
                pool.submit(requests.get, f"{server.url}/slow{i}", timeout=60) for i in range(3)
            ]
            assert held.acquire(timeout=30) and held.acquire(timeout=30)  # both workers held
            fast = requests.get(f"{server.url}/fast", timeout=10)
            assert fast.status_code == 200 and not fast.text.startswith("chatlabels-worker")
            assert not any(answer.done() for answer in slow_answers)
            release.set()
            paths = sorted(answer.result().text for answer in slow_answers)
        assert paths == ["/slow0", "/slow1", "/slow2"]
    finally:
        release.set()
        server.stop()


def test_an_app_that_raises_on_a_worker_gets_a_500_and_the_server_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whether the app raises or answers what granian cannot send (a header value that is
    not text), the client gets a 500 and the one worker thread lives on."""

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/raises":
            raise RuntimeError("secret-looking detail")
        headers: list[tuple[str, Any]] = [("Content-Type", "text/plain")]
        if environ["PATH_INFO"] == "/bad-header":
            headers.append(("X-Count", 1))
        start_response("200 OK", headers)
        return [b"fine"]

    server = GranianThread(broken, port=0, threads=1)
    server.start()
    try:
        with caplog.at_level(logging.ERROR, logger="chatlabels"):
            for path in ("/raises", "/bad-header", "/raises"):
                answer = requests.get(f"{server.url}{path}", timeout=10)
                assert answer.status_code == 500 and answer.content == b""
        assert requests.get(f"{server.url}/after", timeout=10).text == "fine"
    finally:
        server.stop()
    assert "the app raised RuntimeError answering a GET request" in caplog.text
    assert "the app raised TypeError answering a GET request" in caplog.text
    assert "secret-looking" not in caplog.text


def test_a_body_that_drips_in_holds_one_worker_and_no_hot_read(
    granian_one_worker: MockServer,
) -> None:
    """The only worker thread waits for a body sent a byte at a time: Get Chat Labels in
    both dialects is still answered meanwhile, and the body's request once it is whole."""
    server = granian_one_worker
    body = b'{"name":"Dripped","color":1}'
    head = (
        "POST /v2/labels?instance_id=123456789&access_token=123456789 HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        "\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head.encode() + body[:1])
        provider = requests.get(
            f"{server.url}/v2/labels/chats/5511988887777@c.us", params=AUTH, timeout=10
        )
        waha = requests.get(
            f"{server.url}/api/default/labels/chats/5511988887777@c.us",
            headers={"X-Api-Key": "123456789"},
            timeout=10,
        )
        assert provider.status_code == 200 and waha.status_code == 200, waha.text
        conn.sendall(body[1:])
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 201"), answer
    labels = requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=10).json()
    assert "Dripped" in [label["name"] for label in labels]


def _serve(*options: str, fixture: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    command = [CHATLABELS, "serve", "--port", "0", *options]
    if fixture is not None:
        command += ["--fixtures", str(fixture)]
    process = owned_by_the_test(
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip().rsplit(" ", 1)[1]


def test_a_body_cut_short_changes_nothing(granian: MockServer) -> None:
    """A client that announces 200 bytes and leaves after 31: the label must not be made
    from the part that arrived (it was, as if the part were the whole)."""
    body = b'{"name":"Incomplete","color":1}'
    head = (
        "POST /v2/labels?instance_id=123456789&access_token=123456789 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", granian.port), timeout=5) as conn:
        conn.sendall(head.encode() + body)
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400") and b"incomplete body" in answer
    labels = requests.get(f"{granian.url}/v2/labels", params=AUTH, timeout=5).json()
    assert "Incomplete" not in [label["name"] for label in labels]


def test_a_small_header_bound_applies_on_granian_too() -> None:
    fixture = parse_fixture(default_fixture_data())
    limits = ServerLimits(max_header_bytes=2000)
    with MockServer(fixture, server="granian", limits=limits) as server:
        answer = requests.get(
            f"{server.url}/v2/labels", params=AUTH, headers={"X-Big": "a" * 5000}, timeout=5
        )
        assert answer.status_code == 431
        assert answer.json()["error"] == "headers_too_large"
        assert "2000 bytes" in answer.json()["message"]
        small = requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=5)
        assert small.status_code == 200


def test_a_closed_log_stream_costs_no_answer() -> None:
    """stderr closed by whoever reads it (``| head``): every hot read still answers 200."""
    process = subprocess.Popen(
        [CHATLABELS, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[1]
        process.stderr.close()  # the reader goes away: writes now fail with EPIPE
        chat = f"{url}/v2/labels/chats/5511988887777@c.us"
        with requests.Session() as session:
            statuses = {session.get(chat, params=AUTH, timeout=5).status_code for _ in range(1500)}
        assert statuses == {200}
    finally:
        process.terminate()
        process.wait(timeout=15)


def _slow_fixture(tmp_path: Path, latency_ms: int, times: int) -> Path:
    """The next ``times`` /v2/labels requests take ``latency_ms`` more each."""
    rule = {"match": {"path": "/v2/labels"}, "latency_ms": latency_ms, "times": times}
    return _fixture_file(tmp_path, faults=[rule])


def _faults(url: str) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = requests.get(f"{url}/__admin/faults", timeout=10).json()[
        "faults"
    ]
    return faults


@pytest.mark.parametrize("signals", [1, 2], ids=["one signal", "a second signal"])
def test_stopping_with_requests_cut_off_is_a_clean_exit_0(tmp_path: Path, signals: int) -> None:
    """Requests still running when the grace period ends (or a second signal comes) are
    cut off; the process still exits 0 with nothing but log lines on stderr (granian
    used to panic and abort when the interpreter shut down under them)."""
    fixture = _slow_fixture(tmp_path, 5000, times=8)
    process, url = _serve("--grace-seconds", "0.5", fixture=fixture)

    def call() -> None:
        with contextlib.suppress(requests.RequestException):  # cut off: that is the point
            requests.get(f"{url}/v2/labels", params=AUTH, timeout=30)

    clients = [threading.Thread(target=call, daemon=True) for _ in range(8)]
    clients[0].start()
    # Until a request is inside, in its latency (the rule spent once), there is nothing to
    # cut off: a fixed 0.4 s let a loaded machine signal first and test nothing. Asked
    # before the others start: they would hold both of granian's default Python threads.
    deadline = time.monotonic() + 30
    while [rule["times"] for rule in _faults(url)] == [8]:
        assert time.monotonic() < deadline, "no request reached the server in 30 s"
        time.sleep(0.02)
    for client in clients[1:]:
        client.start()
    for _ in range(signals):
        process.send_signal(signal.SIGTERM)
        time.sleep(0.1)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr and "panicked" not in stderr and "Exception" not in stderr


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_long_polls_leave_a_thread_for_the_api(server_name: str) -> None:
    """With 2 threads, at most one long-poll may hold one of them, whatever
    ``--max-long-polls`` says: 20 long-polls never starve a plain read."""
    process, url = _serve("--threads", "2", "--max-long-polls", "5", "--server", server_name)
    try:
        assert_long_polls_leave_the_api_free(url, waiting=1)
    finally:
        process.terminate()
        process.communicate(timeout=15)


@pytest.mark.parametrize("server_name", ["granian", "waitress"])
def test_a_burst_of_signals_still_stops_it(server_name: str) -> None:
    """Signals close together (a supervisor and a terminal both sending one, ``kill`` in a
    loop): the handler once took a lock inside the lock it interrupted and hung for good."""
    for _ in range(3):
        process, _ = _serve("--server", server_name)
        for _ in range(6):
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr[-2000:]
        assert "Traceback" not in stderr
