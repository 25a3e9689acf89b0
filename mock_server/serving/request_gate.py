"""The bounds waitress's parser applies, for a server that hands every request to the app.

granian reads the request head itself (its size bounded by ``max_header_bytes``) and then
calls the app at once, body unread. ``RequestGate`` refuses there what waitress refuses in
its parser (protocol.py), with the same answers (refusals.py): too many header fields or
query parameters, and a body whose ``Content-Length`` is over the path's limit, before a
byte of it is read. A chunked body (no length) is read through ``_CappedInput``, which
refuses the byte past the path's limit (werkzeug's own cap cuts such a body silently, and
the cut body would be judged as if it were whole); the app answers that with the same 413.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from chatlabels.mock.http.errors import ErrorDialect
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.refusals import (
    Refusal,
    body_refusal,
    count_refusal,
    is_admin,
    log_refusal,
    redactor_of,
    refusal_body,
)

__all__ = ["RequestGate"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")


class RequestGate:
    """WSGI middleware: refuse a request over a bound, else pass it on untouched."""

    def __init__(
        self, app: WsgiApp, limits: ServerLimits, dialect_for: Callable[[str], ErrorDialect]
    ) -> None:
        self._app = app
        self._limits = limits
        self._dialect_for = dialect_for

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        refusal = self._refusal(environ)
        if refusal is None:
            if not environ.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" in environ:
                limit = self._body_limit(environ)
                environ["wsgi.input"] = _CappedInput(environ["wsgi.input"], limit)
            return self._app(environ, start_response)
        path = environ.get("PATH_INFO", "") or "/"
        redactor = redactor_of(self._app)
        body = refusal_body(refusal, path, self._dialect_for, redactor)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
        start_response(f"{refusal.status} {HTTP_STATUS_CODES[refusal.status]}", headers)
        elapsed = (time.perf_counter() - started) * 1000
        method = environ.get("REQUEST_METHOD", "-")
        log_refusal(method, path, refusal.status, refusal.error, elapsed, redactor)
        return [body]

    def _refusal(self, environ: dict[str, Any]) -> Refusal | None:
        query = environ.get("QUERY_STRING", "")
        params = sum(1 for part in query.split("&") if part) if query else 0
        fields = sum(1 for key in environ if key[:5] == "HTTP_")
        fields += sum(1 for key in _CONTENT_KEYS if environ.get(key))
        refusal = count_refusal(fields, params, self._limits)
        if refusal is not None:
            return refusal
        length = environ.get("CONTENT_LENGTH")
        if length:
            limit = self._body_limit(environ)
            if length.isdigit() and int(length) > limit:  # a malformed one granian refuses
                return body_refusal(limit)
        return None

    def _body_limit(self, environ: dict[str, Any]) -> int:
        if is_admin(environ.get("PATH_INFO", "")):
            return self._limits.max_admin_body_bytes
        return self._limits.max_body_bytes


class _CappedInput:
    """A chunked request body, read whole on first use up to ``limit`` bytes: one byte more
    raises ``RequestEntityTooLarge`` (werkzeug's own cap would stop at the limit and hand
    the app a cut body as if it were whole)."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._body: io.BytesIO | None = None

    def read(self, size: int | None = -1) -> bytes:
        if self._body is None:
            self._body = io.BytesIO(self._read_capped())
        return self._body.read(-1 if size is None else size)

    def _read_capped(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while total <= self._limit:
            chunk: bytes = self._stream.read(min(64 * 1024, self._limit + 1 - total))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
        raise RequestEntityTooLarge(f"Request body over {self._limit} bytes")
