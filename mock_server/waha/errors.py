"""WAHA's error bodies: what NestJS (WAHA's framework) answers, not the provider's envelope.

WAHA raises NestJS ``HttpException``s, whose body is ``{"message", "error", "statusCode"}``
(``{"message": "Unauthorized", "statusCode": 401}`` when raised without a message), and a few
custom objects such as the session-status 422. ``WAHA_ERRORS`` is the one place that picks
WAHA's answer to a domain error, a Flask HTTP exception or an ``ApiError`` raised by code
both dialects share; errors.py's handlers use it for every path under ``/api/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, assert_never
from urllib.parse import urlencode

from flask import request
from werkzeug.exceptions import HTTPException

from chatlabels.mock.http.errors import ApiError, ErrorDialect
from chatlabels.mock.http.parsed_request import current_request
from chatlabels.mock.http.redaction import REDACTED, is_secret
from chatlabels.mock.provider.errors import provider_domain_error, provider_http_error
from chatlabels.mock.state.errors import (
    AnyDomainError,
    DuplicateLabelName,
    LabelLimitReached,
    SessionNotReady,
    UnknownInstance,
    UnknownLabel,
    UnknownLabels,
)
from chatlabels.mock.webhooks.envelope import WAHA_VERSION

__all__ = [
    "SESSION_STATUS_ERROR",
    "WAHA_ERRORS",
    "WahaError",
    "engine_exception",
    "forbidden",
    "label_not_found",
    "not_implemented_by_engine",
    "session_not_found",
    "unauthorized",
    "unknown_labels",
]


#: WAHA's words when a session is not in the status an endpoint needs (manager.abc.ts).
SESSION_STATUS_ERROR = "Session status is not as expected. Try again later or restart the session"

# NestJS's reason phrases where they differ from Python's (both change between versions).
_NEST_PHRASES = {413: "Payload Too Large", 422: "Unprocessable Entity"}


def _phrase(status: int) -> str:
    if status in _NEST_PHRASES:
        return _NEST_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class WahaError(ApiError):
    """An error in WAHA's shape. ``body`` overrides the NestJS default for custom objects."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        text = message if isinstance(message, str) else "; ".join(message)
        super().__init__(status, "waha_error", text, headers=headers)
        self._body = body or {"message": message, "error": _phrase(status), "statusCode": status}

    def body(self) -> dict[str, Any]:
        return self._body


def unauthorized() -> WahaError:
    """NestJS ``new UnauthorizedException()``, what WAHA's api-key middleware answers."""
    return WahaError(401, "Unauthorized", body={"message": "Unauthorized", "statusCode": 401})


def forbidden() -> WahaError:
    """NestJS ``new ForbiddenException()``: a session-scoped key used on another session."""
    return WahaError(403, "Forbidden", body={"message": "Forbidden", "statusCode": 403})


def session_not_found(name: str) -> WahaError:
    """WAHA's ``SessionManager.getSession`` message, word for word."""
    return WahaError(
        404,
        f"We didn't find a session with name '{name}'.\n"
        f"Please start it first by using POST /api/sessions/{name}/start request",
    )


def session_not_working(name: str, status: str) -> WahaError:
    """WAHA's ``waitUntilStatus`` 422: a custom object, not the NestJS envelope."""
    body = {
        "error": SESSION_STATUS_ERROR,
        "session": name,
        "status": status,
        "expected": ["WORKING"],
    }
    return WahaError(422, SESSION_STATUS_ERROR, body=body)


def label_not_found() -> WahaError:
    return WahaError(404, "Label not found")


def not_implemented_by_engine() -> WahaError:
    """``NotImplementedByEngineError`` of the WAHA releases that still had VENOM (2024.8.1 to
    2024.9.x, ``src/core/exceptions.ts``): an ``UnprocessableEntityException``."""
    return WahaError(422, "The method is not implemented by the engine.")


def engine_exception(name: str, message: str, *, engine: str) -> WahaError:
    """A failure inside the engine (not an HttpException), as WAHA's AllExceptionsFilter
    answers it (``src/nestjs/AllExceptionsFilter.ts`` l.67-79): 500 with the exception and
    the request. The request's query and path keep their keys but never a secret's value."""
    parsed = current_request()
    pairs = [(name, REDACTED if is_secret(name) else value) for name, value in parsed.query]
    query = urlencode(pairs)
    body: dict[str, Any] = {
        "statusCode": 500,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "exception": {
            "message": message,
            "name": name,
            "stack": f"{name}: {message}\n    at (the mock's emulation of the engine)",
        },
        "request": {
            "path": parsed.path + (f"?{query}" if query else ""),
            "method": parsed.method,
            "query": dict(pairs),
        },
        "version": {"version": WAHA_VERSION, "engine": engine, "tier": "CORE", "browser": None},
    }
    return WahaError(500, message, body=body)


def unknown_labels(label_ids: tuple[str, ...], session: str) -> WahaError:
    """422 naming every id of a replace body the session does not have; nothing changed."""
    shown = ", ".join(repr(label_id[:40]) for label_id in label_ids[:10])
    return WahaError(
        422,
        f"Unknown label id(s) {shown}; the chat's labels were not changed. "
        f"GET /api/{session}/labels lists the session's labels.",
    )


def waha_domain_error(error: AnyDomainError) -> ApiError:
    """A refusal of the store as WAHA answers it; the rest in the provider's words."""
    match error:
        case UnknownLabels(label_ids=label_ids):
            return unknown_labels(label_ids, current_request().session or "")
        case UnknownLabel():
            return label_not_found()
        case SessionNotReady(session=session, status=status):
            return session_not_working(session, status)
        case LabelLimitReached(limit=limit):
            # labels.controller.ts l.54-56: counted before the name, on create only.
            return WahaError(422, f"Maximum {limit} labels allowed")
        case DuplicateLabelName(name=name, existing_id=existing_id):
            # labels.controller.ts l.58-62 (create) and l.83-90 (update).
            return WahaError(422, f"Label with '{name}' already exists, id: {existing_id}")
        case UnknownInstance():
            return waha_api_error(provider_domain_error(error))
        case _:
            assert_never(error)


def waha_http_error(exc: HTTPException) -> ApiError:
    """Flask's own refusals under ``/api/``, as Express and NestJS answer them."""
    if exc.code in {404, 405}:
        # Quirk: Express has no 405; an unrouted method is a 404 "Cannot <METHOD> <url>".
        # The query string is left out (NestJS echoes it) since it may carry x-api-key.
        return WahaError(404, f"Cannot {request.method} {request.path}")
    return waha_api_error(provider_http_error(exc))


def waha_api_error(error: ApiError) -> ApiError:
    """An error raised in the provider's shape (shared checks, rate limits, fault rules),
    re-shaped into NestJS's body with the same status and message."""
    if isinstance(error, WahaError):
        return error
    headers = {k: v for k, v in error.headers.items() if k.lower() != "allow"}
    return WahaError(error.status, error.message, headers=headers)


WAHA_ERRORS = ErrorDialect(domain=waha_domain_error, http=waha_http_error, api=waha_api_error)
