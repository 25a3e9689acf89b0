"""Log lines of ``chatlabels serve``: text by default, JSON on request, one line per request
either way, secrets as ``[redacted]``, and the request id the journal and a 500 quote."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.mock import parse_fixture
from chatlabels.mock.app import create_app
from chatlabels.mock.http.logs import JsonFormatter
from chatlabels.mock.serving.server import WaitressThread
from chatlabels.mock.state.store import Store
from tests.conftest import default_fixture_data

CHATLABELS = str(Path(sys.executable).parent / "chatlabels")
DOCS = {"instance_id": "123456789", "access_token": "123456789"}
SECRET_ONLY = {"instance_id": "987654321", "access_token": "s3cr3t-t0ken"}


def serve_and_call(*options: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Run ``chatlabels serve`` with ``options``, send three requests, stop it: its stderr
    lines and the journal it kept."""
    process = subprocess.Popen(
        [CHATLABELS, "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[1]
        chat = f"{url}/v2/labels/chats/5511988887777%40c.us"
        requests.get(chat, params=SECRET_ONLY, timeout=5)
        requests.get(f"{url}/v2/labels/x%0Aforged 200 0.1ms", params=DOCS, timeout=5)
        requests.get(chat, params=DOCS, headers={"X-Api-Key": "k3y"}, timeout=5)
        journal = requests.get(f"{url}/__admin/requests", timeout=5).json()["requests"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0 and "Traceback" not in stderr
    assert "s3cr3t-t0ken" not in stderr and "k3y" not in stderr
    return stderr.splitlines(), journal


def test_text_is_one_line_per_request_with_secrets_as_redacted() -> None:
    lines, _ = serve_and_call()
    requests_logged = [line for line in lines if " /v2/labels" in line]
    assert len(requests_logged) == 3  # the forged line break stays inside its own line
    first = requests_logged[0]
    assert "GET /v2/labels/chats/5511988887777@c.us?instance_id=987654321" in first
    assert "access_token=[redacted] 401 " in first
    assert "x%0Aforged%20200%200.1ms" in requests_logged[1]


def test_json_lines_carry_the_fields_and_the_journals_request_id() -> None:
    lines, journal = serve_and_call("--log-format", "json")
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [line for line in parsed if line["logger"] == "chatlabels.access"]
    emulated = [line for line in access if line["path"].startswith("/v2/")]
    assert [line["status"] for line in emulated] == [401, 400, 200]  # 400: a label id of letters
    first = emulated[0]
    assert first["query"] == {"instance_id": ["987654321"], "access_token": ["[redacted]"]}
    assert first["method"] == "GET" and first["level"] == "info"
    assert first["path"] == "/v2/labels/chats/5511988887777@c.us"
    assert first["instance"] == "987654321"
    assert [line["request_id"] for line in emulated] == [e["request_id"] for e in journal]
    assert len({line["request_id"] for line in access}) == len(access)


def test_reads_of_the_control_api_are_debug_lines() -> None:
    """The dashboard polls /__admin/ every second: those reads stay out of the info log."""
    lines, _ = serve_and_call()
    assert not [line for line in lines if "/__admin/requests" in line]
    lines, _ = serve_and_call("--log-level", "debug")
    assert [line for line in lines if "GET /__admin/requests " in line]


@pytest.mark.parametrize(
    ("options", "logged"),
    [(["--log-level", "warning"], False), (["--quiet"], False), (["--log-level", "debug"], True)],
)
def test_log_level(options: list[str], logged: bool) -> None:
    lines, _ = serve_and_call(*options)
    assert any(" /v2/labels" in line for line in lines) is logged


@pytest.fixture
def failing_server() -> Iterator[tuple[str, io.StringIO]]:
    """A mock with one route that fails unexpectedly, its log captured as JSON lines."""
    app = create_app(Store(parse_fixture(default_fixture_data())))

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("chatlabels")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    server = WaitressThread(app)
    server.start()
    yield server.url, captured
    server.stop()
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_500_quotes_the_request_id_of_its_log_lines(failing_server: Any) -> None:
    url, captured = failing_server
    answer = requests.get(f"{url}/boom", params=DOCS, timeout=5)
    assert answer.status_code == 500
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    [failure] = [line for line in lines if line["level"] == "error"]
    [access] = [line for line in lines if line["logger"] == "chatlabels.access"]
    assert failure["request_id"] == access["request_id"]
    assert failure["request_id"] in answer.json()["message"]
    assert "RuntimeError: a bug" in failure["exception"]
