"""A pre-dispatch fast path for the hot reads: Get Chat Labels in both dialects, and its 401.

Flask's request cycle costs far more than the answer itself. These reads are answered here,
before Flask sees them, with the same parts the Flask path uses: ``parse_request`` reads the
request, the store's published snapshot gives the labels (rendered once per state by the
app's own JSON provider), the dialects' own error constructors give the 401 bodies, and the
request hooks' ``access_record`` and ``journal_entry`` record and log it. Whatever this path is not
certain to answer exactly as Flask would (a fault rule, a rate limit, another method,
parameter, header or body, any problem in the request) goes to Flask untouched.

The decision is made once per distinct request and state: a ``Prepared`` answer (status,
headers, body, the access record and journal fields) is kept under the request's path,
query and credential headers, and used while the store's published snapshot and the rate
limits are the ones it was made under. A repeated read then costs a dictionary look-up, a
journal append (the entry is built when first read) and a log line.
``tests/mock_server/http/test_fast_path.py`` sends generated requests through both paths and
requires identical answers, journal entries and log lines.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from flask import Flask, Response
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from chatlabels.mock.control.control import Control
from chatlabels.mock.http.cors import Cors
from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.hooks import access_record, journal_entry
from chatlabels.mock.http.logs import AccessLog, AccessRecord, new_request_number, request_id
from chatlabels.mock.http.parsed_request import ParsedRequest, parse_request
from chatlabels.mock.http.wsgi import HeaderReader, ImmediateAnswer, WsgiApp
from chatlabels.mock.provider.auth import invalid_token, provider_instance
from chatlabels.mock.state.errors import DomainError
from chatlabels.mock.state.snapshot import Snapshot
from chatlabels.mock.waha.auth import working_session
from chatlabels.mock.waha.errors import unauthorized

__all__ = ["MAX_PREPARED", "FastPath"]

_HOT_PATH = re.compile(r"/v2/labels/chats/[^/]+|/api/[^/]+/labels/chats/[^/]+")
#: Query strings read the same by any parser: no escapes, no "+", no ";".
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~=&-]*")
_NO_BODY = frozenset({None, "", "0"})
#: Distinct requests whose answers are kept; beyond, the kept ones are forgotten (a client
#: asking for ever new chats costs a full decision each time, never unbounded memory).
MAX_PREPARED = 4096
#: Bytes counted per journal entry besides its prepared fields and headers (time, id, ...).
_ENTRY_OVERHEAD = 160
#: The most a header value's character takes in the journal's JSON (``\u00e9``): values
#: are counted at this rate, so the journal's byte bound holds whatever clients send.
_JSON_CHAR = 6


@dataclass(frozen=True)
class Prepared:
    """The decision for one request under one state (by number: the state itself is not
    kept): an answer, or ``flask`` (None)."""

    generation: int
    limits_version: int
    answer: ImmediateAnswer | None = None
    parsed: ParsedRequest | None = None
    record: AccessRecord | None = None
    #: ``record.head()``: the access line up to its duration
    head: str = ""
    size: int = 0


class FastPath:
    """WSGI middleware in front of the Flask app (``app.wsgi_app = FastPath(...)``)."""

    def __init__(self, app: Flask, control: Control, flask_wsgi: WsgiApp, *, cors: Cors) -> None:
        self._control = control
        self._store = control.store
        self._faults = control.faults
        self._rate_limits = control.rate_limits
        self._journal = control.journal
        self._flask = flask_wsgi
        self._cors = cors
        self._access_log = AccessLog()
        self._headers = HeaderReader()
        self._prepared: dict[tuple[Any, ...], Prepared] = {}
        self._generation = 0  # of the state the kept decisions were last cleared for

        def render(document: Any) -> bytes:  # exactly what jsonify sends
            return cast(Response, app.json.response(document)).get_data()

        self._render = render
        self._unauthorized = {
            "provider": self._answer(invalid_token()),
            "waha": self._answer(unauthorized()),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = self.answer_now(environ)
        if answer is None:
            return self._flask(environ, start_response)
        status, headers, body = answer
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", list(headers))
        return [body]

    def answer_now(self, environ: dict[str, Any]) -> ImmediateAnswer | None:
        """The answer when this path gives it, else None (nothing recorded): never waits, so
        a server may run it on the thread every client depends on (an ``ImmediateApp``)."""
        started = time.perf_counter()
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("CONTENT_LENGTH") not in _NO_BODY
            or "HTTP_TRANSFER_ENCODING" in environ
            or self._faults.active
        ):
            return None
        key = (
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_X_API_KEY"),
            environ.get("HTTP_ACCESS_TOKEN"),
        )
        prepared = self._prepared.get(key)
        if (
            prepared is None
            or prepared.generation != self._store.published().generation
            or prepared.limits_version != self._rate_limits.version
        ):
            prepared = self._prepare(environ, key)
        answer = prepared.answer
        if answer is None:
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        number = new_request_number()
        keys, values, key_chars = self._headers(environ)
        size = prepared.size + key_chars + _JSON_CHAR * sum(map(len, values))
        record, parsed = prepared.record, prepared.parsed
        assert record is not None and parsed is not None
        # The entry is built from these alone: nothing of the state is kept with it.
        now = time.time()
        entry_parts = (record, parsed, elapsed_ms, number, keys, values, now)
        self._journal.record_later(_entry, entry_parts, size=size)
        self._access_log.write(record, prepared.head, elapsed_ms, number, now)
        return answer

    def _prepare(self, environ: dict[str, Any], key: tuple[Any, ...]) -> Prepared:
        """Decide ``environ``'s answer under the state in force now, and keep it."""
        snapshot, version = self._store.published(), self._rate_limits.version
        prepared = self._decide(environ, snapshot, version)
        prepared = prepared or Prepared(snapshot.generation, version)
        if len(self._prepared) >= MAX_PREPARED or self._generation != snapshot.generation:
            # What was kept under an older state answers no more: let its bodies go.
            self._prepared.clear()
            self._generation = snapshot.generation
        self._prepared[key] = prepared
        return prepared

    def _decide(
        self, environ: dict[str, Any], snapshot: Snapshot, limits_version: int
    ) -> Prepared | None:
        path = environ.get("PATH_INFO", "")
        if not (
            _HOT_PATH.fullmatch(path)
            and _PLAIN_QUERY.fullmatch(environ.get("QUERY_STRING", ""))
            and path.isascii()  # werkzeug re-decodes non-ASCII paths; leave those to it
        ):
            return None
        chat = path.rsplit("/", 1)[1]
        parsed = parse_request(self._store, Request(environ), view_args={"chat_id": chat})
        answer = self._status_and_body(parsed, snapshot)
        if answer is None:
            return None
        status, body = answer
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if self._cors.applies(path):
            headers.append(("Access-Control-Allow-Origin", "*"))
        redactor = self._control.redactor
        record = access_record(parsed, status, 0.0, "", redactor)
        fields = journal_entry(record, parsed, (), None, redactor, at=0.0)
        return Prepared(
            snapshot.generation,
            limits_version,
            (status, headers, body),
            parsed,
            record,
            record.head(),
            size=len(json.dumps(fields, default=str)) + _ENTRY_OVERHEAD,
        )

    def _status_and_body(
        self, parsed: ParsedRequest, snapshot: Snapshot
    ) -> tuple[int, bytes] | None:
        """``(status, body)`` when this path answers exactly as Flask would, else None."""
        caller = parsed.caller
        if not isinstance(caller.secret, str) or not caller.secret:
            return None
        if parsed.dialect == "provider":
            plain = (
                not caller.conflicting
                and isinstance(parsed.instance_param, str)
                and parsed.instance_param
                and parsed.chat_param is None
            )
            if not plain:
                return None
            if not caller.matched:
                return self._unauthorized["provider"]
        elif parsed.dialect == "waha":
            if parsed.query:
                return None
            if not caller.opens_some_instance:
                return self._unauthorized["waha"]
            if not caller.matched:
                return None
        else:
            return None
        access = caller.access
        if access is None or parsed.chat is None or self._rate_limits.get(access.id) is not None:
            return None
        try:  # the dialect's own rules (WORKING, the engine's support, ...) decide, as in Flask
            if parsed.dialect == "provider":
                provider_instance(parsed)
            else:
                working_session(parsed, access.session)
        except (ApiError, DomainError):
            return None
        body = snapshot.chat_labels_body(access.id, parsed.chat, self._render)
        return None if body is None else (200, body)

    def _answer(self, error: ApiError) -> tuple[int, bytes]:
        return error.status, self._render(error.body())


def _entry(
    template: AccessRecord,
    parsed: ParsedRequest,
    elapsed_ms: float,
    number: int,
    header_keys: tuple[str, ...],
    header_values: tuple[str, ...],
    at: float,
) -> dict[str, Any]:
    """The journal entry of one hot read, as the Flask path would have recorded it."""
    duration = round(elapsed_ms, 1)
    record = replace(template, duration_ms=duration, request_id=request_id(number))
    headers = EnvironHeaders(dict(zip(header_keys, header_values, strict=True))).items()
    return journal_entry(record, parsed, headers, None, record.redactor, at=at)
