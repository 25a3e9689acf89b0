"""Log lines of ``chatlabels serve``: text by default, JSON on request, one line per request
either way, secrets as ``[redacted]``, and the request id the journal and a 500 quote."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from chatlabels.mock import parse_fixture
from chatlabels.mock.app import Settings, create_app
from chatlabels.mock.http import logs
from chatlabels.mock.http.logs import (
    _FLUSH_LINES,
    _LONG_LINE,
    ACCESS_LOGGER,
    FLUSH_SECONDS,
    LOG_FORMATS,
    AccessRecord,
    BufferedStreamHandler,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    new_request_id,
    new_request_number,
    request_id,
)
from chatlabels.mock.serving.waitress_server import WaitressThread
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


@pytest.fixture
def configured_log() -> Iterator[Callable[[str], io.StringIO]]:
    """``configure_logging`` as ``chatlabels serve`` calls it, into a string; the root
    logger's handlers (pytest's) are given back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def configure(log_format: str) -> io.StringIO:
        stream = io.StringIO()
        configure_logging(log_format=log_format, level="info", stream=stream)
        return stream

    yield configure
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _without_time_duration_and_id(line: str, log_format: str) -> Any:
    if log_format == "json":
        document = json.loads(line)
        for varying in ("time", "duration_ms", "request_id"):
            document.pop(varying)
        document["message"] = document["message"].rsplit(" ", 1)[0]
        return document
    assert line[:4].isdigit() and line.endswith("ms")
    return line[24:].rsplit(" ", 1)[0]  # after "YYYY-MM-DD HH:MM:SS,mmm ", before the duration


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_hot_reads_write_their_lines_directly_as_logging_would(
    configured_log: Callable[[str], io.StringIO], log_format: str
) -> None:
    """The fast path hands its lines straight to the handler ``chatlabels serve`` installs,
    building no ``LogRecord``; each line must read exactly as ``logging`` writes the same
    request's line on the Flask path (its time, duration and request id aside)."""
    stream = configured_log(log_format)
    made: list[str] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        made.append(record.name)
        return record

    logging.setLogRecordFactory(counting)
    try:
        lines = {}
        for fast in (True, False):
            app = create_app(Store(parse_fixture(default_fixture_data())), Settings(fast_path=fast))
            client = app.test_client()
            before = len(made)
            for params in (DOCS, {**DOCS, "access_token": "wrong"}):
                answer = client.get("/v2/labels/chats/5511988887777@c.us", query_string=params)
                assert answer.status_code in (200, 401)
            assert made[before:] == ([] if fast else ["chatlabels.access"] * 2)
            logging.getLogger().handlers[0].flush()
            lines[fast] = stream.getvalue().splitlines()[-2:]
            stream.seek(0)
            stream.truncate()
    finally:
        logging.setLogRecordFactory(factory)
    assert len(lines[True]) == 2
    assert [_without_time_duration_and_id(line, log_format) for line in lines[True]] == [
        _without_time_duration_and_id(line, log_format) for line in lines[False]
    ]


def test_buffered_lines_reach_the_stream_within_the_flush_interval(
    configured_log: Callable[[str], io.StringIO],
) -> None:
    """Buffered, never lost: an info line is written by the flusher, a warning at once."""
    stream = configured_log("text")
    logging.getLogger("chatlabels").warning("now")
    assert stream.getvalue().endswith(" chatlabels now\n")
    logging.getLogger("chatlabels").info("soon")
    deadline = time.monotonic() + 5
    while "soon" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(FLUSH_SECONDS / 2)
    assert stream.getvalue().endswith(" chatlabels soon\n")


_ONE_FORMATTER = TextFormatter()  # shared by the examples, so its per-second cache is used


@settings(max_examples=300)
@given(
    created=st.floats(min_value=0, max_value=4_102_444_800),  # up to 2100
    duration=st.floats(min_value=0, max_value=1_000_000),
    later=st.lists(st.floats(min_value=0, max_value=3), max_size=4),
)
def test_a_hot_reads_text_line_is_exactly_what_logging_formats(
    created: float, duration: float, later: list[float]
) -> None:
    """Time, milliseconds and duration included: the line ``access_line`` builds from its
    per-second cache and its table is the one ``logging`` formats for a record made at the
    same time, for any time, and for times that follow each other across seconds."""
    template = AccessRecord("GET", "/v2/labels/chats/1@c.us", {"instance_id": ["1"]}, 200, 0, "")
    logged = replace(template, duration_ms=round(duration, 1), request_id=request_id(1))
    for moment in [created, *(created + step for step in later)]:
        record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "%s", (logged,), None)
        record.created = moment  # as LogRecord sets both from its clock (Python 3.11, 3.12)
        record.msecs = int((moment - int(moment)) * 1000) + 0.0
        line = _ONE_FORMATTER.access_line(moment, template, template.head(), duration, 1)
        assert line == _ONE_FORMATTER.format(record)


def test_buffered_lines_from_many_threads_all_arrive_in_order(
    configured_log: Callable[[str], io.StringIO],
) -> None:
    """Lines are gathered without a lock: none may be lost or reordered, whichever thread
    writes them and whoever flushes."""
    stream = configured_log("text")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, BufferedStreamHandler)

    def write(thread: int) -> None:
        for number in range(2000):
            handler.write_line(f"{thread} {number}")

    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handler.flush()
    written = [line.split() for line in stream.getvalue().splitlines()]
    for thread in range(4):
        assert [int(n) for t, n in written if t == str(thread)] == list(range(2000))
    assert len(written) == 8000


def test_lines_wait_until_the_buffer_is_full_or_a_line_is_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What waits for the writer is bounded: at most ``_FLUSH_LINES`` lines, none longer
    than ``_LONG_LINE`` (the writer itself held off here, so only the bounds write)."""
    monkeypatch.setattr(logs, "FLUSH_SECONDS", 3600.0)
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, TextFormatter())
    try:
        for number in range(_FLUSH_LINES - 1):
            handler.write_line(f"line {number}")
        assert stream.getvalue() == ""  # gathered, not written one by one
        handler.write_line(f"line {_FLUSH_LINES - 1}")
        assert stream.getvalue().splitlines() == [f"line {n}" for n in range(_FLUSH_LINES)]
        handler.write_line("short")
        long_line = "x" * (_LONG_LINE + 1)
        handler.write_line(long_line)
        assert stream.getvalue().splitlines()[-2:] == ["short", long_line]
    finally:
        handler.close()


def test_request_ids_are_32_hex_digits_and_unique() -> None:
    ids = [new_request_id() for _ in range(1000)] + [request_id(new_request_number())]
    assert all(len(id_) == 32 and int(id_, 16) >= 0 for id_ in ids)
    assert len(set(ids)) == len(ids)
