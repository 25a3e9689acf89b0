"""The bounds waitress applies before the app, for a server that hands every request to it.

granian reads the request head itself (its size bounded by ``max_header_bytes``, and a
head that does not arrive within the idle/request timeout is cut) and then calls the app at
once, body unread. ``RequestGate`` applies there what waitress applies in its parser and
channel (protocol.py), with the same answers (refusals.py):

- too many header fields or query parameters, and a ``Content-Length`` over the path's body
  limit: refused before a byte of the body is read;
- the body is read whole, at most ``limit + 1`` bytes, before the app runs: a chunked body
  past the limit is a 413 (werkzeug's own cap would cut it silently, and the app would
  judge the cut body as if it were whole).

What it cannot bound: a body that drips in holds the Python thread reading it until it is
whole or its client goes (granian's body stream has no timeout, and reading it from another
thread blocks the whole interpreter). README "Servers" says so; waitress reads bodies
before a thread sees them.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from chatlabels.mock.http.errors import ErrorDialect
from chatlabels.mock.http.wsgi import WsgiApp, header_count
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.refusals import (
    Refusal,
    body_refusal,
    count_refusal,
    head_refusal,
    is_admin,
    log_refusal,
    redactor_of,
    refusal_body,
)

__all__ = ["RequestGate"]

#: granian's smallest request-head buffer: below it, ``max_header_bytes`` is checked here.
_GRANIAN_MIN_HEAD = 8192
_CHUNK = 64 * 1024


class _TooLarge(Exception):
    """The body passed its limit while being read."""


class RequestGate:
    """WSGI middleware: refuse a request over a bound, else read its body and pass it on."""

    def __init__(
        self,
        app: WsgiApp,
        limits: ServerLimits,
        dialect_for: Callable[[str], ErrorDialect],
    ) -> None:
        self._app = app
        self._limits = limits
        self._dialect_for = dialect_for

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        refusal = self._refusal(environ)
        if refusal is None and _has_body(environ):
            refusal = self._read_body(environ)
        if refusal is None:
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

    def passes_at_once(self, environ: dict[str, Any]) -> bool:
        """Whether the request has no body to read and no bound refuses it: then the app
        may answer it on the spot, with nothing of this gate's left to do."""
        if _has_body(environ):
            return False
        limits = self._limits
        if (
            # what ``_refusal`` counts, only where it could be over (a hot read is not)
            environ.get("QUERY_STRING", "").count("&") < limits.max_query_params
            and len(environ) <= limits.max_headers
            and limits.max_header_bytes >= _GRANIAN_MIN_HEAD
        ):
            return True  # a request with no body has no body limit to pass either
        return self._refusal(environ) is None

    def _refusal(self, environ: dict[str, Any]) -> Refusal | None:
        limits = self._limits
        query = environ.get("QUERY_STRING", "")
        # Counted only when they could be over (every request pays for this check).
        params = query.count("&") + 1
        fields = len(environ)
        if params > limits.max_query_params or fields > limits.max_headers:
            params = sum(1 for part in query.split("&") if part)
            fields = header_count(environ)
            refusal = count_refusal(fields, params, limits)
            if refusal is not None:
                return refusal
        if limits.max_header_bytes < _GRANIAN_MIN_HEAD and _head_bytes(environ) > (
            limits.max_header_bytes
        ):
            return head_refusal(limits.max_header_bytes)
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit() and int(length) > self._body_limit(environ):
            return body_refusal(self._body_limit(environ))  # a malformed one granian refuses
        return None

    def _read_body(self, environ: dict[str, Any]) -> Refusal | None:
        """Replace the body stream by the body, read whole; else the refusal."""
        limit = self._body_limit(environ)
        declared = environ.get("CONTENT_LENGTH") or ""
        try:
            body = _read_capped(environ["wsgi.input"], limit)
        except _TooLarge:
            return body_refusal(limit)
        except OSError:  # the client went away, or broke the chunked encoding
            return _incomplete("the connection failed while it was read")
        if declared.isdigit() and len(body) < int(declared):
            # The client went away mid-body: a cut body must not act as a whole one.
            return _incomplete(f"{len(body)} of the {declared} bytes announced arrived")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return None

    def _body_limit(self, environ: dict[str, Any]) -> int:
        if is_admin(environ.get("PATH_INFO", "")):
            return self._limits.max_admin_body_bytes
        return self._limits.max_body_bytes


def _head_bytes(environ: dict[str, Any]) -> int:
    """About the size of the request line and headers as sent (names as ``Name: ``)."""
    line = len(environ.get("REQUEST_METHOD", "")) + len(environ.get("PATH_INFO", ""))
    line += len(environ.get("QUERY_STRING", "")) + 12  # spaces, "?", "HTTP/1.1", CRLF
    return line + sum(len(k) - 1 + len(v) for k, v in environ.items() if k[:5] == "HTTP_")


def _incomplete(what: str) -> Refusal:
    message = f"Malformed HTTP request (incomplete body: {what}); send the whole body."
    return Refusal(400, "Bad Request", "bad_request", message)


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH")
    return bool(length and length != "0") or "HTTP_TRANSFER_ENCODING" in environ


def _read_capped(stream: Any, limit: int) -> bytes:
    """The whole body, or ``_TooLarge`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk: bytes = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise _TooLarge
