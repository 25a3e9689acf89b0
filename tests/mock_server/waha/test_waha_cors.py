"""CORS over real sockets: WAHA's ``app.enableCors()`` answers per dialect; none on /__admin/."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chatlabels.mock import parse_fixture
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data

KEY = {"X-Api-Key": "123456789"}
PROVIDER = {"instance_id": "123456789", "access_token": "123456789"}
ORIGIN = {"Origin": "http://dashboard.example"}
CHAT = "5511988887777@c.us"
PREFLIGHT = {
    **ORIGIN,
    "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "content-type,x-api-key",
}
CORS_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-max-age",
}


@pytest.fixture(scope="module", params=[True, False], ids=["cors", "no-cors"])
def cors(request: pytest.FixtureRequest) -> bool:
    """The provider's CORS on (the default), or off as ``chatlabels serve --no-cors``."""
    return bool(request.param)


@pytest.fixture(scope="module")
def server(cors: bool) -> Iterator[MockServer]:
    started = MockServer(parse_fixture(default_fixture_data()), port=0, cors=cors)
    yield started.start()
    started.stop()


def call(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, server.url + path, timeout=5, **kwargs)


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() in CORS_HEADERS}


def assert_preflight(response: requests.Response, *, allow_headers: str | None) -> None:
    """The npm cors 2.8.5 defaults WAHA serves: 204, empty, exactly these headers."""
    assert response.status_code == 204, response.text
    assert response.content == b""
    expected = {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET,HEAD,PUT,PATCH,POST,DELETE",
    }
    if allow_headers is not None:
        expected["access-control-allow-headers"] = allow_headers
    assert cors_headers(response) == expected
    assert response.headers["Vary"] == "Access-Control-Request-Headers"
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/api/default/labels",
        "/api/default/labels/3",
        f"/api/default/labels/chats/{CHAT}",
        "/api/nosuchsession/labels",  # before the session is resolved
        "/api/default/not-a-route",  # before routing, as cors is WAHA's first middleware
    ],
)
def test_waha_preflight_is_answered_before_the_key_in_both_modes(server, path):
    assert_preflight(
        call(server, "OPTIONS", path, headers=PREFLIGHT),
        allow_headers=PREFLIGHT["Access-Control-Request-Headers"],
    )


def test_any_options_is_a_preflight_and_headers_are_echoed_only_when_asked(server):
    """cors does not look for Access-Control-Request-Method; it echoes the asked headers."""
    assert_preflight(call(server, "OPTIONS", "/api/default/labels"), allow_headers=None)
    asked = {**ORIGIN, "Access-Control-Request-Headers": "X-Custom, X-Api-Key"}
    response = call(server, "OPTIONS", "/api/default/labels", headers=asked)
    assert_preflight(response, allow_headers="X-Custom, X-Api-Key")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/default/labels", {"headers": KEY}, 200),
        ("GET", "/api/default/labels", {"headers": ORIGIN}, 401),
        ("DELETE", "/api/default/labels/99", {"headers": KEY}, 404),
        ("GET", "/api/default/labels/99/chats", {"headers": KEY}, 500),  # WEBJS's failure
        ("GET", "/api/default/labels/chats/not-a-chat", {"headers": KEY}, 400),
        ("GET", "/api/sales/labels", {"headers": {"X-Api-Key": "987654321"}}, 422),
        ("POST", "/api/default/labels", {"headers": KEY, "json": {"name": "N"}}, 422),
        ("DELETE", "/api/default/nothing", {"headers": KEY}, 404),
    ],
)
def test_every_waha_answer_allows_any_origin_in_both_modes(server, method, path, kwargs, status):
    response = call(server, method, path, **kwargs)
    assert response.status_code == status, response.text
    assert cors_headers(response) == {"access-control-allow-origin": "*"}


def test_provider_dialect_has_cors_unless_turned_off(server, cors):
    preflight = call(server, "OPTIONS", "/v2/labels", headers=PREFLIGHT)
    answers = [
        call(server, "GET", "/v2/labels", params=PROVIDER, headers=ORIGIN),  # 200
        call(server, "GET", "/v2/labels", headers=ORIGIN),  # 401
        call(server, "GET", "/v2/nothing", params=PROVIDER),  # 404
        call(server, "GET", "/openapi.json"),
    ]
    if cors:
        assert_preflight(preflight, allow_headers=PREFLIGHT["Access-Control-Request-Headers"])
        for response in answers:
            assert cors_headers(response) == {"access-control-allow-origin": "*"}
    else:
        assert preflight.status_code == 405 and preflight.json()["error"] == "method_not_allowed"
        for response in [preflight, *answers]:
            assert cors_headers(response) == {}


@pytest.mark.parametrize("path", ["/__admin/health", "/__admin/reset", "/__admin/nothing"])
def test_control_api_gets_no_cors_headers_and_refuses_other_origins(server, path):
    preflight = call(server, "OPTIONS", path, headers=PREFLIGHT)
    assert preflight.status_code != 204 and cors_headers(preflight) == {}
    same_machine = call(server, "GET", "/__admin/health")
    assert same_machine.status_code == 200 and cors_headers(same_machine) == {}
    refused = call(server, "POST", "/__admin/reset", headers=ORIGIN)
    assert refused.status_code == 403 and refused.json()["error"] == "cross_origin"
    assert cors_headers(refused) == {}


def test_preflight_is_not_faulted_or_rate_limited_but_is_journaled(start_server):
    """Like WAHA's first middleware: nothing that judges a request sees a preflight."""
    data = default_fixture_data()
    data["faults"] = [{"id": "all", "status": 503}]
    data["instances"][0]["rate_limit"] = {"requests": 1, "window_seconds": 60}
    server = start_server(data)
    for _ in range(3):
        response = call(server, "OPTIONS", "/api/default/labels", headers=PREFLIGHT)
        assert response.status_code == 204
    faulted = call(server, "GET", "/api/default/labels", headers=KEY)
    assert faulted.status_code == 503 and cors_headers(faulted) == {
        "access-control-allow-origin": "*"
    }
    journal = call(server, "GET", "/__admin/requests").json()
    methods = [(entry["method"], entry["status"]) for entry in journal["requests"]]
    assert methods == [("OPTIONS", 204)] * 3 + [("GET", 503)]


def test_serve_no_cors_flag(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlabels", "serve", "--no-cors", "--quiet", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        provider = requests.get(f"{url}/v2/labels", params=PROVIDER, headers=ORIGIN, timeout=5)
        waha = requests.get(f"{url}/api/default/labels", headers={**KEY, **ORIGIN}, timeout=5)
        assert provider.status_code == waha.status_code == 200
        assert cors_headers(provider) == {}
        assert cors_headers(waha) == {"access-control-allow-origin": "*"}
    finally:
        process.terminate()
        process.communicate(timeout=15)
    assert process.returncode == 0


def test_a_preflight_echoes_header_names_but_never_a_secret(start_server) -> None:
    """WAHA echoes the header names a preflight asks for; a known secret written among them
    (a client that confused a header's name with its value) comes back redacted."""
    data = default_fixture_data()
    data["instances"][0]["api_key"] = "Waha-Api-Key-0123456789"
    server = start_server(data)
    asked = "content-type, Waha-Api-Key-0123456789, x-api-key"
    answer = call(
        server,
        "OPTIONS",
        "/api/default/labels",
        headers={**PREFLIGHT, "Access-Control-Request-Headers": asked},
    )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type, [redacted], x-api-key"
    plain = call(server, "OPTIONS", "/api/default/labels", headers=PREFLIGHT)
    assert plain.headers["Access-Control-Allow-Headers"] == "content-type,x-api-key"
