"""The HTTP layer under abuse, over raw sockets to 127.0.0.1: connections, sizes, refusals.

Issue 12's rows: idle and slow connections that starved everyone, a 900 MB upload buffered to
disk, 12,000 query parameters, protocol errors answered in ``text/plain``. Each runs on both
servers (waitress, and granian, the default of ``chatlabels serve``), except where granian
answers before the app (the README's one exception) or has no such bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import resource
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.server import MockServer
from tests.conftest import FIXTURES_DIR, default_fixture_data

AUTH = {"instance_id": "123456789", "access_token": "123456789"}


def exchange(server: MockServer, data: bytes, *, timeout: float = 5.0) -> tuple[int, dict, str]:
    """Send raw bytes, read the answer until the server closes: status, headers, body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.title(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body.decode()


SERVERS = ["waitress", "granian"]


@pytest.fixture(scope="module", params=SERVERS)
def any_server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """A server on the default fixture, once on each HTTP server."""
    with MockServer(parse_fixture(default_fixture_data()), server=request.param) as server:
        yield server


def request_bytes(target: str, *headers: str, body: bytes = b"", method: str = "GET") -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


QUERY_12K = "&".join(f"p{i}=1" for i in range(12_000))
CASES = {
    "bad request line": (b"GARBAGE\r\n\r\n", 400, "bad_request"),
    "900 MB upload, body never sent": (
        request_bytes("/v2/labels", "Content-Length: 900000000", method="POST"),
        413,
        "payload_too_large",
    ),
    "9 MiB fixture": (
        request_bytes("/__admin/fixture", f"Content-Length: {9 << 20}", method="POST"),
        413,
        "payload_too_large",
    ),
    "chunked body over the limit": (
        request_bytes("/v2/labels", "Transfer-Encoding: chunked", method="POST")
        + (b"8000\r\n" + b"x" * 0x8000 + b"\r\n") * 3,
        413,
        "payload_too_large",
    ),
    "12,000 query parameters": (request_bytes(f"/v2/labels?{QUERY_12K}"), 431, None),
    "101 query parameters": (
        request_bytes("/v2/labels?" + "&".join(f"p{i}=1" for i in range(101))),
        400,
        "invalid_parameter",
    ),
    "101 query parameters, on a hot read": (  # answered before Flask, when within bounds
        request_bytes(
            "/v2/labels/chats/5511988887777%40c.us?instance_id=123456789&access_token=123456789&"
            + "&".join(f"p{i}=1" for i in range(99))
        ),
        400,
        "invalid_parameter",
    ),
    "101 header fields": (
        request_bytes("/v2/labels", *(f"X-{i}: 1" for i in range(100))),
        431,
        "headers_too_large",
    ),
    "17 KiB header": (request_bytes("/v2/labels", "X-Big: " + "b" * (17 << 10)), 431, None),
    "unsupported transfer coding": (
        request_bytes("/v2/labels", "Transfer-Encoding: gzip"),
        501,
        "not_implemented",
    ),
}


#: What granian answers itself, before the app runs: status, and no body (README "Limits").
GRANIAN_ANSWERS = {
    "bad request line": 400,
    "12,000 query parameters": 431,  # the request head is over max_header_bytes
    "101 header fields": 431,  # granian reads at most 100 header fields
    "17 KiB header": 431,
    "unsupported transfer coding": 400,
}


@pytest.mark.parametrize("case", CASES)
def test_protocol_refusals_are_json_and_immediate(any_server: MockServer, case: str) -> None:
    data, status, error = CASES[case]
    if any_server.server_name == "granian" and case == "chunked body over the limit":
        data = data.replace(b"/v2/labels", b"/v2/labels?" + urlencode(AUTH).encode(), 1)
    started = time.monotonic()
    code, headers, body = exchange(any_server, data)
    assert time.monotonic() - started < 5  # answered from the headers: no body was awaited
    if any_server.server_name == "granian" and case in GRANIAN_ANSWERS:
        assert (code, body) == (GRANIAN_ANSWERS[case], "")
        return
    assert code == status
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["status"] == status
    assert error is None or document["error"] == error
    assert (
        "bytes" in document["message"]
        or "at most" in document["message"]
        or status
        in {
            400,
            501,
        }
    )


def test_a_waha_path_is_refused_in_waha_shape(any_server: MockServer) -> None:
    data = request_bytes("/api/default/labels", "Content-Length: 900000000", method="POST")
    code, _, body = exchange(any_server, data)
    assert code == 413
    assert json.loads(body) == {
        "message": "Request body over 65536 bytes; send a smaller one.",
        "error": "Payload Too Large",
        "statusCode": 413,
    }


def test_parameters_and_headers_within_the_bounds_are_served(any_server: MockServer) -> None:
    params = {**AUTH, **{f"p{i}": "1" for i in range(98)}}
    headers = {f"X-{i}": "1" for i in range(90)}
    url = f"{any_server.url}/v2/labels"
    assert requests.get(url, params=params, headers=headers, timeout=5).status_code == 200


@pytest.fixture
def many_descriptors() -> None:
    """Room for 1,100 sockets in this process (both ends of 500 connections and more)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 1500
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@contextlib.contextmanager
def idle_sockets(server: MockServer, count: int) -> Iterator[list[socket.socket]]:
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def closed_by_server(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_client_is_served_beside_500_idle_sockets(
    many_descriptors, start_server, server_name: str
) -> None:
    server = start_server(server=server_name)
    with idle_sockets(server, 500):
        response = requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=5)
        assert response.status_code == 200


def test_at_the_connection_limit_the_longest_idle_makes_room(start_server) -> None:
    server = start_server(limits=ServerLimits(max_connections=20))
    with idle_sockets(server, 40) as sockets:
        response = requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=5)
        assert response.status_code == 200
        assert closed_by_server(sockets[0], wait=2)


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_slowloris_is_cut_off_and_others_are_served(start_server, server_name: str) -> None:
    """100 connections each trickling a header line every 0.2 s, never finishing, twice the
    connection limit: a client is served meanwhile, and each slow one is closed once its
    request has taken request_timeout (before, 200 slow sockets let 0 of 6 probes through
    in 60 s)."""
    limits = ServerLimits(max_connections=50, request_timeout=1.0)
    server = start_server(limits=limits, server=server_name)
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(100)]
    alive = set(range(len(slow)))
    started = time.monotonic()
    try:
        for sock in slow:
            sock.sendall(b"GET /v2/labels HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        with ThreadPoolExecutor(max_workers=1) as pool:
            probe = pool.submit(requests.get, f"{server.url}/v2/labels", params=AUTH, timeout=10)
            while alive and time.monotonic() - started < 10:
                for i in list(alive):
                    try:
                        slow[i].sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        alive.discard(i)
                time.sleep(0.2)
            assert probe.result().status_code == 200
            assert probe.result().elapsed.total_seconds() < 5
        assert not alive, f"{len(alive)} slow connections still open after 10 s"
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("server_name", SERVERS)
def test_an_idle_connection_is_closed_after_the_idle_timeout(
    start_server, server_name: str
) -> None:
    server = start_server(limits=ServerLimits(idle_timeout=1.0), server=server_name)
    with idle_sockets(server, 1) as (sock,):
        assert closed_by_server(sock, wait=4)


def test_the_readme_limits_table_names_every_bound() -> None:
    readme = (FIXTURES_DIR.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- limits-table:", 1)[1].split("\n\n", 1)[0]
    for bound in dataclasses.fields(ServerLimits):
        assert f"`--{bound.name.replace('_', '-')}`" in table, bound.name
