"""The fast path (http/fast_path.py) answers exactly as the Flask path would.

Two apps on equal stores, one with the fast path and one without, get the same generated
requests (both dialects, every chat-id spelling, right, wrong, empty, missing and repeated
credentials, with and without fault rules and rate limits); status, headers, body bytes,
journal entries and access-log lines must be identical.
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Iterator
from dataclasses import replace
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
import requests as http_requests
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.kit import strategies as cs
from chatlabels.mock import Settings, Store, create_app
from chatlabels.mock.app import app_state
from chatlabels.mock.http.fast_path import FastPath
from chatlabels.mock.http.logs import AccessRecord
from chatlabels.mock.serving.granian_server import _base_environ
from tests.conftest import default_fixture_data

KNOWN_CHATS = ["5511988887777@c.us", "5511988887777", "203251182247977@lid", "1@c.us"]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[AccessRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        assert isinstance(record.args, tuple)
        access = record.args[0]
        assert isinstance(access, AccessRecord)
        # all but the duration and the request id, which differ between any two requests
        self.lines.append(replace(access, duration_ms=0.0, request_id=""))


@pytest.fixture(scope="module")
def access_log() -> Iterator[_Lines]:
    """Access-log lines (cleared by each user; module-scoped for Hypothesis)."""
    logger = logging.getLogger("chatlabels.access")
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _param(name: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    values = {
        "instance_id": ["123456789", "999", ""],
        "access_token": ["123456789", "wrong-token", ""],
        "x-api-key": ["123456789", "987654321"],
        "chatId": ["5511988887777@c.us", "1@c.us"],
    }[name]
    one = st.sampled_from(values).map(lambda v: [(name, v)])
    two = st.lists(st.sampled_from(values), min_size=2, max_size=2)
    return st.one_of(st.just([]), one, one, one, two.map(lambda vs: [(name, v) for v in vs]))


@st.composite
def hot_requests(draw: st.DrawFn) -> dict[str, Any]:
    chat = draw(st.one_of(st.sampled_from(KNOWN_CHATS), cs.valid_chat_ids(), st.just("not-a-chat")))
    segment = quote(chat, safe=draw(st.sampled_from(["@", ""])))
    if draw(st.booleans()):
        path = f"/v2/labels/chats/{segment}"
        names = ["instance_id", "access_token", "chatId"]
        header = ("access-token", ["123456789", "wrong-token", ""])
    else:
        session = draw(st.sampled_from(["default", "sales", "nobody"]))
        path = f"/api/{session}/labels/chats/{segment}"
        names = ["x-api-key"]
        header = ("X-Api-Key", ["123456789", "987654321", "wrong", ""])
    query: list[tuple[str, str]] = []
    for name in names:
        query += draw(_param(name))
    query = draw(st.permutations(query))
    headers = {}
    if draw(st.booleans()):
        headers[header[0]] = draw(st.sampled_from(header[1]))
    return {
        "method": draw(st.sampled_from(["GET", "GET", "GET", "PUT"])),
        "path": path,
        "query": query,
        "headers": headers,
    }


_FAULTS = [
    [],
    [{"match": {"path": "/v2/*"}, "status": 503, "times": 1}],
    [{"match": {"chat": "5511988887777@c.us"}, "object_root": True}],
]
_LIMITS = [None, {"requests": 1, "window_seconds": 60}]
_SERVER_KEYS = frozenset(_base_environ())


class _AsGranianCallsIt:
    """The fast path called as granian's thread calls it: ``answer_now`` on the request's
    scope, without the keys the server adds to every environ; the app on the full one."""

    def __init__(self, fast_path: FastPath) -> None:
        self._fast_path = fast_path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        scope = {key: value for key, value in environ.items() if key not in _SERVER_KEYS}
        answer = self._fast_path.answer_now(scope)
        if answer is None:
            return self._fast_path(environ, start_response)
        status, headers, body = answer
        start_response(f"{status} {HTTPStatus(status).phrase.upper()}", headers)
        return [body]


@given(
    requests=st.lists(hot_requests(), min_size=1, max_size=3),
    faults=st.sampled_from(_FAULTS),
    limit=st.sampled_from(_LIMITS),
    cors=st.booleans(),
    engine=st.sampled_from([None, "NOWEB", "VENOM"]),
    as_granian=st.booleans(),
)
def test_the_fast_path_answers_records_and_logs_exactly_as_flask(
    access_log: _Lines,
    requests: list[dict[str, Any]],
    faults: list[Any],
    limit: Any,
    cors: bool,
    engine: str | None,
    as_granian: bool,
) -> None:
    """Property: for any sequence of requests, both paths give byte-identical answers and
    identical journal entries and log lines (bar time, duration and request id), whether
    the fast path is called on a WSGI environ or, as on granian, on the request's scope."""
    note(f"faults={faults} limit={limit} cors={cors} engine={engine} granian={as_granian}")
    outcomes = []
    for fast in (True, False):
        fixture = default_fixture_data()
        fixture["faults"] = faults
        if limit is not None:
            fixture["instances"][0]["rate_limit"] = limit
        if engine is not None:
            fixture["instances"][0]["engine"] = engine
        app = create_app(Store(parse_fixture(fixture)), Settings(fast_path=fast, cors=cors))
        if fast and as_granian:
            assert isinstance(app.wsgi_app, FastPath)
            app.wsgi_app = _AsGranianCallsIt(app.wsgi_app)  # type: ignore[method-assign]
        client = app.test_client()
        answers = []
        access_log.lines.clear()
        for request in requests:
            response = client.open(
                request["path"],
                method=request["method"],
                query_string=request["query"],
                headers=request["headers"],
            )
            answers.append((response.status, response.headers.to_wsgi_list(), response.data))
        journal = [
            {k: v for k, v in entry.items() if k not in {"time", "duration_ms", "request_id"}}
            for entry in app_state(app).control.journal.entries()
        ]
        outcomes.append((answers, journal, list(access_log.lines)))
    note(f"requests={requests}")
    assert outcomes[0][0] == outcomes[1][0]
    assert outcomes[0][1] == outcomes[1][1]
    assert outcomes[0][2] == outcomes[1][2]


def test_the_fast_path_answers_the_hot_reads_itself(access_log: _Lines) -> None:
    """The differential test above passes trivially if the fast path never answers: show it
    does, for a 200 of each dialect and a 401 of each, without Flask's dispatch."""
    app = create_app(Store(parse_fixture(default_fixture_data())))
    dispatched: list[str] = []
    app.before_request(lambda: dispatched.append("flask") and None)
    client = app.test_client()
    chat = "/labels/chats/5511988887777%40c.us"
    auth = {"instance_id": "123456789", "access_token": "123456789"}
    assert client.get(f"/v2{chat}", query_string=auth).status_code == 200
    assert client.get(f"/api/default{chat}", headers={"X-Api-Key": "123456789"}).status_code == 200
    wrong = {**auth, "access_token": "wrong"}
    assert client.get(f"/v2{chat}", query_string=wrong).status_code == 401
    assert client.get(f"/api/default{chat}", headers={"X-Api-Key": "wrong"}).status_code == 401
    assert dispatched == []
    assert len(access_log.lines) >= 4
    assert client.get(f"/v2{chat}", query_string={**auth, "chatId": "1"}).status_code == 400
    assert dispatched == ["flask"]


def test_kept_decisions_follow_every_change_of_state(start_server: Any) -> None:
    """The fast path keeps its decision per request while the state lasts (granian, the
    default server): a rate limit set, a fixture loaded with another token, a reset and a
    fault rule must each change the very next answer to a request it has seen before."""
    server = start_server(server="granian")
    chat = f"{server.url}/v2/labels/chats/5511988887777%40c.us"
    auth = {"instance_id": "123456789", "access_token": "123456789"}
    admin = f"{server.url}/__admin"

    def status() -> int:
        return int(http_requests.get(chat, params=auth, timeout=5).status_code)

    assert [status(), status()] == [200, 200]
    limit = {"requests": 1, "window_seconds": 60}
    put = http_requests.put(f"{admin}/instances/default/rate-limit", json=limit, timeout=5)
    assert put.status_code == 200
    assert [status(), status()] == [200, 429]
    fixture = default_fixture_data()
    fixture["instances"][0]["token"] = "another-token"
    assert http_requests.post(f"{admin}/fixture", json=fixture, timeout=5).status_code == 200
    assert status() == 401
    assert http_requests.post(f"{admin}/reset", timeout=5).status_code == 200
    assert status() == 401  # reset returns to the fixture last loaded
    fixture["instances"][0]["token"] = "123456789"
    assert http_requests.post(f"{admin}/fixture", json=fixture, timeout=5).status_code == 200
    assert status() == 200
    rule = {"match": {"path": "/v2/labels/chats/*"}, "status": 503, "times": 1}
    assert http_requests.post(f"{admin}/faults", json=rule, timeout=5).status_code == 201
    assert [status(), status()] == [503, 200]


def test_what_the_fast_path_keeps_holds_no_earlier_state() -> None:
    """Kept decisions and the journal's hot-read entries must not keep a whole earlier state
    alive (a 650 KB fixture rewritten 300 times took 568 MB that way)."""
    store = Store(parse_fixture(default_fixture_data()))
    client = create_app(store).test_client()
    chat = "/v2/labels/chats/5511988887777%40c.us"
    auth = {"instance_id": "123456789", "access_token": "123456789"}
    assert client.get(chat, query_string=auth).status_code == 200
    earlier = weakref.ref(store.published())
    assert (
        client.put("/v2/labels/1/chats/5511988887777%40c.us", query_string=auth).status_code == 200
    )
    assert client.get(chat, query_string=auth).status_code == 200  # a decision for the new state
    gc.collect()
    assert earlier() is None
