"""One error path: whatever is raised, one handler per kind turns it into a JSON answer.

Views raise ``ApiError`` (already an HTTP answer), the store raises domain errors
(``state/errors.py``); Flask's own HTTP exceptions and anything unexpected go through the
same place, so no client ever sees HTML or a stack trace. Which status and body each gets
is the dialect's choice (``ErrorDialect``: ``provider/errors.py``, ``waha/errors.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from chatlabels.contract.problems import DEFAULT_BOUNDS, ReportBounds, and_more
from chatlabels.mock.http.logs import new_request_id
from chatlabels.mock.state.errors import AnyDomainError, DomainError

__all__ = ["ApiError", "ErrorDialect", "InvalidDocument", "register_error_handlers"]

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

    The body adds ``problems``: each problem with its JSON pointer, so a client fixes them
    in one go; at most ``bounds.max_problems`` are listed (``--max-problems``), each reason
    cut to ``bounds.max_chars``, and the message counts the rest.
    """

    def __init__(
        self,
        error: str,
        summary: str,
        problems: Iterable[tuple[str, str]],
        more: int = 0,
        *,
        bounds: ReportBounds = DEFAULT_BOUNDS,
    ) -> None:
        listed, extra = bounds.first(problems)
        self.problems = [(pointer, bounds.cut(reason)) for pointer, reason in listed]
        self.more = more + extra
        details = "; ".join(f"{pointer or '/'}: {reason}" for pointer, reason in self.problems)
        closing = f"; {and_more(self.more)}" if self.more else ""
        super().__init__(422, error, f"{summary}: {details}{closing}")

    def body(self) -> dict[str, Any]:
        problems = [{"pointer": pointer, "reason": reason} for pointer, reason in self.problems]
        return {**super().body(), "problems": problems}


@dataclass(frozen=True)
class ErrorDialect:
    """How one dialect answers every kind of failure: the one place it picks status and body.

    ``domain`` answers the store's refusals, ``http`` Flask's own exceptions (unknown path,
    wrong method, body too large), ``api`` an ``ApiError`` raised in the provider's shape by
    code shared by the dialects (parameter checks, rate limits, fault rules).
    """

    domain: Callable[[AnyDomainError], ApiError]
    http: Callable[[HTTPException], ApiError]
    api: Callable[[ApiError], ApiError]


def register_error_handlers(
    app: Flask,
    *,
    dialect_for: Callable[[str], ErrorDialect],
    redact: Callable[[Any], Any] = lambda body: body,
) -> None:
    """Install the handlers that render every failure as JSON, in the path's dialect.

    An error body may echo what the client sent (a chat id, a label name, a bad fixture's
    value): ``redact`` takes the known secrets out of it first.
    """

    def render(error: ApiError) -> Response:
        response = jsonify(redact(error.body()))
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return render(dialect_for(request.path).api(error))

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> Response:
        return render(dialect_for(request.path).domain(cast(AnyDomainError, error)))

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        return render(dialect_for(request.path).http(exc))

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        # The id the request's journal entry and access-log line carry (a fresh one if the
        # failure came before the request hooks gave it one).
        request_id = g.get("request_id") or new_request_id()
        # The traceback goes through ``redact`` too (http/logs.py): a message may quote a secret.
        extra = {"request_id": request_id, "redact": redact}
        log.exception("internal error, request id %s", request_id, extra=extra)
        error = ApiError(
            500,
            "internal_error",
            f"Unexpected failure in the mock; see its log for request id {request_id}.",
        )
        return render(dialect_for(request.path).api(error))
