"""WAHA's error bodies: what NestJS (WAHA's framework) answers, not the provider's envelope.

WAHA raises NestJS ``HttpException``s, whose body is ``{"message", "error", "statusCode"}``
(``{"message": "Unauthorized", "statusCode": 401}`` when raised without a message), and a few
custom objects such as the session-status 422. Views and the store keep raising ``ApiError``;
``waha_error_for`` (installed as errors.py's ``dialect_error`` hook) re-shapes every error
under ``/api/`` here, so the one error path of the app stays the only one.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import request

from chatlabels.mock.http.errors import ApiError

__all__ = [
    "SESSION_STATUS_ERROR",
    "WAHA_PREFIX",
    "WahaError",
    "forbidden",
    "label_not_found",
    "session_not_found",
    "session_not_working",
    "unauthorized",
    "waha_error_for",
]

WAHA_PREFIX = "/api/"

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


def waha_error_for(path: str, error: ApiError) -> ApiError:
    """errors.py's ``dialect_error`` hook: re-shape any error raised under ``/api/``."""
    if not path.startswith(WAHA_PREFIX) or isinstance(error, WahaError):
        return error
    if error.error in {"not_found", "method_not_allowed"}:
        # Quirk: Express has no 405; an unrouted method is a 404 "Cannot <METHOD> <url>".
        # The query string is left out (NestJS echoes it) since it may carry x-api-key.
        return WahaError(404, f"Cannot {request.method} {path}")
    if error.error == "label_not_found":
        return label_not_found()
    headers = {k: v for k, v in error.headers.items() if k.lower() != "allow"}
    return WahaError(error.status, error.message, headers=headers)
