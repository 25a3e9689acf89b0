"""One error path: views raise ``ApiError``; one handler turns it into the JSON body.

Flask's own HTTP exceptions (unknown path, wrong method, unreadable body) and anything
unexpected go through the same place, so no client ever sees HTML or a stack trace.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

__all__ = ["ApiError", "InvalidDocument", "register_error_handlers"]

log = logging.getLogger("chatlabels")


class ApiError(Exception):
    """An answer other than success, in the provider's error envelope.

    ``error`` is a snake_case code clients can switch on; ``message`` is a sentence a human
    can act on. ``headers`` carries extras such as ``Allow`` or ``Retry-After``.
    """

    def __init__(
        self, status: int, error: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body; subclasses for other dialects override this."""
        return {"status": self.status, "message": self.message, "error": self.error}


class InvalidDocument(ApiError):
    """A 422 for a JSON document (fixture, fault rule) that breaks its schema or rules.

    The body adds ``problems``: every problem with its JSON pointer, so a client fixes all
    of them in one go.
    """

    def __init__(self, error: str, summary: str, problems: list[tuple[str, str]]) -> None:
        details = "; ".join(f"{pointer or '/'}: {reason}" for pointer, reason in problems)
        super().__init__(422, error, f"{summary}: {details}")
        self.problems = problems

    def body(self) -> dict[str, Any]:
        problems = [{"pointer": pointer, "reason": reason} for pointer, reason in self.problems]
        return {**super().body(), "problems": problems}


_HTTP_CODES = {
    400: "invalid_parameter",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
}


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "invalid_parameter")
    headers: dict[str, str] = {}
    if status == 404:
        message = (
            f"No route for {request.method} {request.path}. The mock serves /v2/labels..., "
            "/api/{session}/labels... and /__admin/...; see /openapi.json."
        )
    elif status == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or [])
        headers["Allow"] = ", ".join(allowed)
        message = (
            f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}."
        )
    elif status == 413:
        message = f"Request body over {request.max_content_length} bytes; send a smaller one."
    else:
        message = exc.description or exc.name
    return ApiError(status, code, message, headers=headers)


def register_error_handlers(app: Flask, *, dialect_error: Any = None) -> None:
    """Install the handlers that render every failure as JSON.

    ``dialect_error(path, ApiError) -> ApiError`` lets another dialect (WAHA) re-shape errors
    raised under its own prefix.
    """

    def render(error: ApiError) -> Response:
        if dialect_error is not None:
            error = dialect_error(request.path, error)
        response = jsonify(error.body())
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return render(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        return render(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        request_id = uuid.uuid4().hex
        log.exception("internal error, request id %s", request_id)
        return render(
            ApiError(
                500,
                "internal_error",
                f"Unexpected failure in the mock; see its log for request id {request_id}.",
            )
        )
