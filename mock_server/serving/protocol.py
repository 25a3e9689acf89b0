"""The HTTP layer's own bounds and refusals, before a request reaches the app.

waitress reads whole requests on its event loop and hands complete ones to worker threads,
so idle and slow connections cost no thread, only a socket: they are bounded here in number
(when ``max_connections`` are open, the oldest one not being answered is closed for the
newcomer) and
in time (``idle_timeout`` between requests, ``request_timeout`` for a request to arrive
whole, so a slowloris is cut off). A body over the path's limit is refused from its
``Content-Length``, before a byte of it is read or buffered to disk; header fields and query
parameters are counted before any parsing in the app.

waitress answers the requests it refuses itself (malformed, too large) with a ``text/plain``
page; ``JsonErrorTask`` answers them in the mock's JSON envelope instead, in the dialect of
the path, and logs them like any other request, with the app's known secrets redacted.
"""

from __future__ import annotations

import contextlib
import copy
import socket
import time
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask
from waitress.utilities import Error

from chatlabels.mock.http.errors import ErrorDialect
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.refusals import (
    Refusal,
    count_refusal,
    is_admin,
    log_refusal,
    redactor_of,
    refusal_body,
)

__all__ = ["limit_server"]

#: Reads of at most 64 KiB drained from a connection being closed (4 MiB in all).
_DRAIN_READS = 64

#: waitress's refusals: the mock's error code and what the client should do.
_REFUSALS = {
    400: ("bad_request", "Malformed HTTP request ({detail}); send a valid HTTP/1.1 request."),
    413: ("payload_too_large", "Request body over {body} bytes; send a smaller one."),
    431: (
        "headers_too_large",
        "Request line and headers over {header} bytes; send fewer or shorter headers.",
    ),
    501: ("not_implemented", "{detail}."),
}


class _Refused(Error):  # type: ignore[misc]
    """waitress's error for a request refused by a bound of ours (refusals.py)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.code, self.reason, self.refusal = refusal.status, refusal.reason, refusal


def _parser_class(limits: ServerLimits, adj: Any) -> type[HTTPRequestParser]:
    """A request parser applying ``limits``: the body limit of the path, fields, parameters."""
    by_path = {}
    for admin, size in ((False, limits.max_body_bytes), (True, limits.max_admin_body_bytes)):
        by_path[admin] = copy.copy(adj)
        by_path[admin].max_request_body_size = size + 1  # waitress refuses from this size on

    class Parser(HTTPRequestParser):  # type: ignore[misc]
        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            # Read by received() right after this returns, for Content-Length and chunks.
            self.adj = by_path[is_admin(self.path)]
            fields = sum(1 for line in header_plus.split(b"\n")[1:] if line.strip())
            params = sum(1 for part in self.query.split("&") if part)
            refusal = count_refusal(fields, params, limits)
            if refusal is not None:
                self.error = _Refused(refusal)
                self.completed = True

    return Parser


def _error_task_class(
    limits: ServerLimits, dialect_for: Callable[[str], ErrorDialect], app: Any
) -> type[ErrorTask]:
    class JsonErrorTask(ErrorTask):  # type: ignore[misc]
        """waitress's refusal of a request, answered and logged as the app would."""

        def execute(self) -> None:
            started = time.perf_counter()
            redactor = redactor_of(app)  # the secrets known now
            error = self.request.error
            path = getattr(self.request, "path", None) or "/"  # unset if the line was bad
            if isinstance(error, _Refused):
                refusal = error.refusal
            else:
                code, template = _REFUSALS.get(error.code, ("internal_error", "{detail}."))
                message = template.format(
                    detail=str(error.body)[:200].rstrip("."),
                    body=self.request.adj.max_request_body_size - 1,
                    header=limits.max_header_bytes,
                )
                refusal = Refusal(error.code, error.reason, code, message)
            body = refusal_body(refusal, path, dialect_for, redactor)
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)
            method = getattr(self.request, "command", None) or "-"
            elapsed = (time.perf_counter() - started) * 1000
            log_refusal(method, path, error.code, refusal.error, elapsed, redactor)

    return JsonErrorTask


def _channel_class(limits: ServerLimits, parser: type, error_task: type) -> type[HTTPChannel]:
    class Channel(HTTPChannel):  # type: ignore[misc]
        parser_class = parser
        error_task_class = error_task
        #: When the first byte of the request being read arrived.
        request_started = 0.0

        def received(self, data: bytes) -> Any:
            if self.request is None:
                self.request_started = time.time()
            return super().received(data)

        def handle_close(self) -> None:
            """Close gently: a request refused before it was read whole (a body over the
            limit, headers too large) left bytes unread, and closing over unread bytes sends
            a reset that can destroy the refusal before the client reads it."""
            # A socket closed already (a reset seen by another handler) has nothing to drain;
            # raising here instead would end waitress's loop, and with it the server.
            if self.socket is not None:
                with contextlib.suppress(OSError):
                    self.socket.shutdown(socket.SHUT_WR)
                    self.socket.setblocking(False)
                    for _ in range(_DRAIN_READS):
                        if not self.socket.recv(65536):
                            break
            super().handle_close()

    return Channel


def limit_server(
    server: Any, limits: ServerLimits, dialect_for: Callable[[str], ErrorDialect], app: Any
) -> None:
    """Apply ``limits`` to a waitress server built by ``create_server`` for ``app`` (whose
    known secrets the refusals redact).

    waitress picks the server class itself; its hooks (``channel_class``, ``maintenance``,
    ``readable``) are set on the instance.
    """
    parser = _parser_class(limits, server.adj)
    error_task = _error_task_class(limits, dialect_for, app)
    server.channel_class = _channel_class(limits, parser, error_task)
    waitress_readable = server.readable

    def maintenance(now: float) -> None:
        """Close connections idle too long, and those whose request is too slow to arrive."""
        for channel in list(server.active_channels.values()):
            if channel.requests:
                continue  # being answered
            if channel.request is not None:
                too_slow = channel.request_started < now - limits.request_timeout
            else:
                too_slow = channel.last_activity < now - limits.idle_timeout
            if too_slow:
                channel.will_close = True

    def readable() -> bool:
        """Accept a newcomer at the limit by closing the oldest connection not being answered.

        Oldest by when it connected, not by its last byte: a slowloris trickles bytes to look
        busy, while a client that has just connected may not have sent its request yet."""
        accepting = bool(waitress_readable())  # also runs maintenance when it is due
        if accepting and len(server.active_channels) >= limits.max_connections:
            open_channels = [c for c in server.active_channels.values() if not c.will_close]
            idle = [c for c in open_channels if not c.requests]
            if len(open_channels) >= limits.max_connections and idle:
                min(idle, key=lambda c: c.creation_time).will_close = True
            return False  # accept on a later turn, once the evicted one is closed
        return accepting

    server.maintenance = maintenance
    server.readable = readable
