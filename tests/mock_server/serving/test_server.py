"""`chatlabels serve` as a user runs it: a real process, a ready line, clean stops."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from chatlabels.mock import DEFAULT_FIXTURE, load_fixture
from chatlabels.mock.serving.server import MockServer
from tests.conftest import FIXTURES_DIR, owned_by_the_test

CHATLABELS = Path(sys.executable).parent / "chatlabels"
READY = re.compile(r"^chatlabels serving on (http://127\.0\.0\.1:(\d+))$")
DOCS = {"instance_id": "123456789", "access_token": "123456789"}


def start(*command: str) -> tuple[subprocess.Popen, str]:
    process = owned_by_the_test(
        subprocess.Popen(
            [*command, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    line = process.stdout.readline().strip()
    match = READY.match(line)
    assert match, f"no ready line, got {line!r}"
    return process, match.group(1)


@pytest.mark.parametrize(
    "command",
    # the console script installed beside this interpreter, whether or not PATH has it
    [[sys.executable, "-m", "chatlabels", "serve"], [str(CHATLABELS), "serve"]],
    ids=["python -m chatlabels", "chatlabels"],
)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serves_default_fixture_logs_redacted_and_stops_cleanly(command, stop_signal):
    process, url = start(*command, "--fixtures", str(FIXTURES_DIR / "multi-instance.json"))
    try:
        params = {"instance_id": "111111111", "access_token": "token-one"}
        response = requests.get(
            f"{url}/v2/labels/chats/5511999990000@c.us", params=params, timeout=5
        )
        assert response.json()[0]["name"] == "Support"
    finally:
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    request_lines = [line for line in stderr.splitlines() if "/v2/labels/chats/" in line]
    assert len(request_lines) == 1
    assert "access_token=[redacted]" in request_lines[0] and " 200 " in request_lines[0]
    assert "token-one" not in stderr


def test_port_in_use_is_a_clear_error(default_server):
    done = subprocess.run(
        [sys.executable, "-m", "chatlabels", "serve", "--port", str(default_server.port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"chatlabels: cannot listen on 127.0.0.1:{default_server.port}: Address already in use\n"
    )


def test_serves_many_clients_at_once(default_server):
    url = f"{default_server.url}/v2/labels/chats/5511988887777@c.us"

    def fetch(_: int) -> int:
        return len(requests.get(url, params=DOCS, timeout=10).json())

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert set(pool.map(fetch, range(200))) == {3}


def test_stop_while_clients_are_busy_is_clean():
    """Stopping with requests in flight neither raises nor leaves the loop running (under
    load waitress's trigger can already be closed when stop() pulls it)."""
    fixture = load_fixture(DEFAULT_FIXTURE)
    for _ in range(15):
        server = MockServer(fixture).start()
        done = threading.Event()

        def hammer(url: str = server.url, done: threading.Event = done) -> None:
            session = requests.Session()
            while not done.is_set():
                with contextlib.suppress(requests.RequestException):
                    session.get(f"{url}/v2/labels/chats/1", params=DOCS, timeout=2)

        clients = [threading.Thread(target=hammer) for _ in range(4)]
        for client in clients:
            client.start()
        # answered (beside four busy clients in this process: 10 s, not 2, for a loaded one)
        requests.get(f"{server.url}/v2/labels/chats/1", params=DOCS, timeout=10)
        server.stop()
        done.set()
        for client in clients:
            client.join()
        assert not server.running
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/v2/labels/chats/1", params=DOCS, timeout=2)


def test_an_unknown_server_name_is_refused_with_the_known_ones() -> None:
    fixture = load_fixture(DEFAULT_FIXTURE)
    with pytest.raises(ValueError, match="'uvicorn' is none of granian, waitress"):
        MockServer(fixture, server="uvicorn")
