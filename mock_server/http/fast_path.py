"""A pre-dispatch fast path for the hot reads: Get Chat Labels in both dialects, and its 401.

Flask's request cycle costs far more than the answer itself. These reads are answered here,
before Flask sees them, with the same parts the Flask path uses: ``parse_request`` reads the
request, the store's published snapshot gives the labels (rendered once per state by the
app's own JSON provider), the dialects' own error constructors give the 401 bodies, and the
request hooks' ``access_record`` and ``journal_entry`` record and log it. Whatever this path is not
certain to answer exactly as Flask would (a fault rule, a rate limit, another method,
parameter, header or body, any problem in the request) goes to Flask untouched.
``tests/mock_server/test_fast_path.py`` sends generated requests through both and requires
identical answers, journal entries and log lines.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, cast

from flask import Flask, Response
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from chatlabels.mock.control.control import Control
from chatlabels.mock.http.cors import Cors
from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.hooks import access_record, journal_entry
from chatlabels.mock.http.parsed_request import ParsedRequest, parse_request
from chatlabels.mock.provider.auth import invalid_token, provider_instance
from chatlabels.mock.state.errors import DomainError
from chatlabels.mock.waha.auth import working_session
from chatlabels.mock.waha.errors import unauthorized

__all__ = ["FastPath"]

_access_log = logging.getLogger("chatlabels.access")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_HOT_PATH = re.compile(r"/v2/labels/chats/[^/]+|/api/[^/]+/labels/chats/[^/]+")
#: Query strings read the same by any parser: no escapes, no "+", no ";".
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._~=&-]*")
_NO_BODY = frozenset({None, "", "0"})


class FastPath:
    """WSGI middleware in front of the Flask app (``app.wsgi_app = FastPath(...)``)."""

    def __init__(self, app: Flask, control: Control, flask_wsgi: WsgiApp, *, cors: Cors) -> None:
        self._control = control
        self._flask = flask_wsgi
        self._cors = cors

        def render(document: Any) -> bytes:  # exactly what jsonify sends
            return cast(Response, app.json.response(document)).get_data()

        self._render = render
        self._unauthorized = {
            "provider": self._answer(invalid_token()),
            "waha": self._answer(unauthorized()),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        hot = (
            environ.get("REQUEST_METHOD") == "GET"
            and _HOT_PATH.fullmatch(environ.get("PATH_INFO", ""))
            and _PLAIN_QUERY.fullmatch(environ.get("QUERY_STRING", ""))
            and environ.get("CONTENT_LENGTH") in _NO_BODY
            and "HTTP_TRANSFER_ENCODING" not in environ
            and not self._control.faults.active
        )
        if not hot:
            return self._flask(environ, start_response)
        path = environ["PATH_INFO"]
        if not path.isascii():  # werkzeug re-decodes non-ASCII paths; leave those to it
            return self._flask(environ, start_response)
        chat = path.rsplit("/", 1)[1]
        parsed = parse_request(self._control.store, Request(environ), view_args={"chat_id": chat})
        answer = self._decide(parsed)
        if answer is None:
            return self._flask(environ, start_response)
        status, body = answer
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if self._cors.applies(path):
            headers.append(("Access-Control-Allow-Origin", "*"))
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        redactor = self._control.redactor
        record = access_record(parsed, status, elapsed_ms, uuid.uuid4().hex, redactor)
        entry = journal_entry(record, parsed, EnvironHeaders(environ).items(), None, redactor)
        self._control.journal.record(entry)
        _access_log.info("%s", record)
        return [body]

    def _decide(self, parsed: ParsedRequest) -> tuple[int, bytes] | None:
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
        if (
            access is None
            or parsed.chat is None
            or self._control.rate_limits.get(access.id) is not None
        ):
            return None
        try:  # the dialect's own rules (WORKING, the engine's support, ...) decide, as in Flask
            if parsed.dialect == "provider":
                provider_instance(parsed)
            else:
                working_session(parsed, access.session)
        except (ApiError, DomainError):
            return None
        body = self._control.store.published().chat_labels_body(
            access.id, parsed.chat, self._render
        )
        return None if body is None else (200, body)

    def _answer(self, error: ApiError) -> tuple[int, bytes]:
        return error.status, self._render(error.body())
