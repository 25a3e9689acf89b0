"""Requests refused by a bound before the app runs: what to count, what to answer, in one place.

Both servers refuse the same requests with the same answers: waitress in its request parser
(protocol.py), granian in ``RequestGate`` in front of the app (granian hands every request
to the app). The answer is the mock's JSON envelope in the dialect of the path, and the
refusal is logged like any other request, marked as refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatlabels.contract.value_redaction import NO_SECRETS, ValueRedactor
from chatlabels.mock.app import app_state
from chatlabels.mock.http.errors import ApiError, ErrorDialect
from chatlabels.mock.http.logs import ACCESS_LOGGER, AccessRecord, new_request_id
from chatlabels.mock.limits import ServerLimits

__all__ = [
    "Refusal",
    "body_refusal",
    "count_refusal",
    "head_refusal",
    "is_admin",
    "log_refusal",
    "redactor_of",
    "refusal_body",
]

log = logging.getLogger(ACCESS_LOGGER)


@dataclass(frozen=True)
class Refusal:
    """A request refused by a bound: HTTP status and reason, the envelope's code, message."""

    status: int
    reason: str
    error: str
    message: str


def is_admin(path: str) -> bool:
    return path == "/__admin" or path.startswith("/__admin/")


def count_refusal(fields: int, params: int, limits: ServerLimits) -> Refusal | None:
    """The refusal of a request with ``fields`` header fields and ``params`` query
    parameters, when either is over its bound."""
    if fields > limits.max_headers:
        message = f"{fields} header fields; at most {limits.max_headers} are read."
        return Refusal(431, "Request Header Fields Too Large", "headers_too_large", message)
    if params > limits.max_query_params:
        message = f"{params} query parameters; at most {limits.max_query_params} are read."
        return Refusal(400, "Bad Request", "invalid_parameter", message)
    return None


def head_refusal(limit: int) -> Refusal:
    """The refusal of a request line and headers over ``limit`` bytes."""
    message = f"Request line and headers over {limit} bytes; send fewer or shorter headers."
    return Refusal(431, "Request Header Fields Too Large", "headers_too_large", message)


def body_refusal(limit: int) -> Refusal:
    """The refusal of a body over ``limit`` bytes."""
    message = f"Request body over {limit} bytes; send a smaller one."
    return Refusal(413, "Payload Too Large", "payload_too_large", message)


def redactor_of(app: Any) -> ValueRedactor:
    """The secrets the chatlabels app ``app`` knows now (none for another WSGI app)."""
    try:
        return app_state(app).control.redactor
    except (TypeError, AttributeError):
        return NO_SECRETS


def refusal_body(
    refusal: Refusal,
    path: str,
    dialect_for: Callable[[str], ErrorDialect],
    redactor: ValueRedactor,
) -> bytes:
    """The answer's body: the envelope of ``path``'s dialect, known secrets redacted."""
    error = ApiError(refusal.status, refusal.error, refusal.message)
    return json.dumps(redactor.redact_json(dialect_for(path).api(error).body())).encode()


def log_refusal(
    method: str,
    path: str,
    status: int,
    code: str,
    duration_ms: float,
    redactor: ValueRedactor,
) -> None:
    """One access-log line for a refused request (never journaled: it reached no API)."""
    record = AccessRecord(
        method=redactor.redact(method[:16]),
        path=redactor.redact(path)[:200],
        query={},
        status=status,
        duration_ms=round(duration_ms, 1),
        request_id=new_request_id(),
        refused=code,
        redactor=redactor,
    )
    log.info("%s", record)
