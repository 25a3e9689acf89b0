"""Every bound of the mock server in one place, with its default (README "Limits").

A mock that tests and developers leave running must stay small and responsive whatever a
client does: a leaky connection pool, a slowloris, a huge upload, thousands of parameters,
a webhook receiver that hangs. Each bound here has a ``chatlabels serve`` option; this module
imports nothing heavy, so ``chatlabels serve --help`` can show the defaults without Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_JOURNAL_BYTES",
    "DEFAULT_JOURNAL_SIZE",
    "DEFAULT_MAX_LONG_POLLS",
    "DEFAULT_MAX_WAIT_SECONDS",
    "DEFAULT_WEBHOOK_QUEUE",
    "ServerLimits",
]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class ServerLimits:
    """Bounds of the HTTP server itself (connections, timeouts, request sizes)."""

    #: Open connections; when full, the connection idle the longest is closed for a new one.
    max_connections: int = 1000
    #: Seconds a connection may stay idle (no request in progress) before it is closed.
    idle_timeout: float = 30.0
    #: Seconds a request may take to arrive whole (headers and body) from its first byte.
    request_timeout: float = 10.0
    #: Bytes of the request line and headers together.
    max_header_bytes: int = 16 * KIB
    #: Header fields in one request.
    max_headers: int = 100
    #: Query parameters in one request.
    max_query_params: int = 100
    #: Body bytes of a call to the emulated API.
    max_body_bytes: int = 64 * KIB
    #: Body bytes of a call to /__admin/ (a fixture document may be far bigger).
    max_admin_body_bytes: int = 8 * MIB
    #: Seconds requests in flight may take to finish after SIGTERM.
    grace_seconds: float = 10.0


#: Long-polls of /__admin/webhooks waiting at once (each holds a worker thread).
DEFAULT_MAX_LONG_POLLS = 2
#: Longest ``timeout`` a long-poll may ask for.
DEFAULT_MAX_WAIT_SECONDS = 30.0
#: Journal entries kept, and bytes they may take together.
DEFAULT_JOURNAL_SIZE = 1000
DEFAULT_JOURNAL_BYTES = 16 * MIB
#: Webhook deliveries waiting to be sent; when full the oldest undelivered one is dropped.
DEFAULT_WEBHOOK_QUEUE = 1000
