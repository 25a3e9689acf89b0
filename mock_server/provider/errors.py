"""The provider's answers to failures: its envelope ``{"status", "message", "error"}``.

The one place the provider dialect (and the control API, which shares its envelope) turns a
domain error or a Flask HTTP exception into a status, a code and a sentence.
"""

from __future__ import annotations

from typing import assert_never

from flask import request
from werkzeug.exceptions import HTTPException

from chatlabels.mock.http.errors import ApiError, ErrorDialect
from chatlabels.mock.state.errors import (
    AnyDomainError,
    DuplicateLabelName,
    LabelLimitReached,
    SessionNotReady,
    UnknownInstance,
    UnknownLabel,
)

__all__ = ["PROVIDER_ERRORS", "provider_domain_error", "provider_http_error"]

_HTTP_CODES = {
    400: "invalid_parameter",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
}


def provider_domain_error(error: AnyDomainError) -> ApiError:
    """A refusal of the store as the provider words it (README "Errors")."""
    match error:
        case UnknownInstance(instance_id=instance_id):
            return ApiError(
                401,
                "unauthorized",
                f"Instance {instance_id!r} is gone: a fixture without it was loaded meanwhile.",
            )
        case UnknownLabel(instance_id=instance_id, label_id=label_id):
            return ApiError(
                404,
                "label_not_found",
                f"Label {label_id!r} does not exist in instance {instance_id!r}; "
                "GET /v2/labels lists the account's labels.",
            )
        case LabelLimitReached(limit=limit):
            return ApiError(
                403,
                "quota_reached",
                f"The account already has {limit} labels, WhatsApp's limit; "
                "delete one before creating another.",
            )
        case DuplicateLabelName(name=name, existing_id=existing_id):
            return ApiError(
                422,
                "label_exists",
                f"Label with '{name}' already exists, id: {existing_id}; "
                "choose another name, or update that label.",
            )
        case SessionNotReady(instance_id=instance_id, status=status):
            return ApiError(
                422,
                "session_not_ready",
                f"Instance {instance_id} is {status}, not WORKING; "
                "start the session (or set its status in the fixture) and try again.",
            )
        case _:
            assert_never(error)


def provider_http_error(exc: HTTPException) -> ApiError:
    """Flask's own refusals; a 404 lists what the mock serves, a 405 what the path allows."""
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


def _as_raised(error: ApiError) -> ApiError:
    return error


PROVIDER_ERRORS = ErrorDialect(
    domain=provider_domain_error, http=provider_http_error, api=_as_raised
)
