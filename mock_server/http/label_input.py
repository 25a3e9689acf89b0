"""Request bodies that create or change labels, parsed once for both dialects.

The 422 messages are WAHA's own words (contract section 5), so a client written against
WAHA sees exactly what it would see there.
"""

from __future__ import annotations

from typing import Any

from flask import request

from chatlabels.contract import strict_json
from chatlabels.contract.chat_ids import ACCEPTED_FORMS, canonical_chat_id
from chatlabels.contract.labels import MAX_NAME_LENGTH
from chatlabels.contract.schemas import PALETTE
from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.parsed_request import ParsedRequest

__all__ = [
    "chat_id_in_path",
    "chat_id_param",
    "json_object_body",
    "label_fields",
    "label_id_param",
]

_SHOWN = 80


def _shown(value: str) -> str:
    """A client value quoted in a message, cut short so a huge input cannot echo back."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def chat_id_param(raw: str, *, where: str = "chatId") -> str:
    """The canonical chat id, or a 400 that lists the accepted forms."""
    chat_id = canonical_chat_id(raw)
    if chat_id is None:
        raise _not_a_chat_id(raw, where)
    return chat_id


def chat_id_in_path(parsed: ParsedRequest) -> str:
    """The chat the route's path names, canonical (parsed once), or the same 400."""
    if parsed.path_chat is None or parsed.chat is None:
        raise _not_a_chat_id(parsed.path_chat or "", "chatId")
    return parsed.chat


def _not_a_chat_id(raw: str, where: str) -> ApiError:
    return ApiError(
        400,
        "invalid_parameter",
        f"{where} {_shown(raw)} is not a chat id; accepted forms: {', '.join(ACCEPTED_FORMS)}.",
    )


def label_id_param(raw: str) -> str:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 32):
        raise ApiError(
            400,
            "invalid_parameter",
            f"Label id {_shown(raw)} is not a label id; ids are digits, e.g. '1'.",
        )
    return raw


def json_object_body(*, json_content_type_only: bool = False) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it.

    The provider reads the body whatever its Content-Type; WAHA (NestJS) parses only
    ``application/json`` and sees any other body as empty: ``json_content_type_only``.
    """
    if json_content_type_only and not request.is_json:
        return {}
    try:
        body = strict_json.loads(request.get_data())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(
            400, "invalid_parameter", f"Request body is not valid JSON ({exc}); send a JSON object."
        ) from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_parameter", "Request body is not a JSON object; send a JSON object."
        )
    return body


def label_fields(body: dict[str, Any]) -> tuple[str, int]:
    """``(name, color)`` from ``{name, color}`` or ``{name, colorHex}``; 422 if the rules break."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise _invalid(f"'name' must be a non-empty string of at most {MAX_NAME_LENGTH} characters")
    has_color, has_hex = body.get("color") is not None, body.get("colorHex") is not None
    if has_color and has_hex:
        raise _invalid("Use either 'color' or 'colorHex'")
    if not (has_color or has_hex):
        raise _invalid("'color' or 'colorHex' is required")
    if has_hex:
        if body["colorHex"] not in PALETTE:
            raise _invalid(f"Invalid 'colorHex'. Possible values: {', '.join(PALETTE)}")
        return name, PALETTE.index(body["colorHex"])
    color = body["color"]
    if isinstance(color, float) and color.is_integer():
        # JSON has one number type: 14.0 is the integer 14 to JSON Schema and to WAHA (JavaScript).
        color = int(color)
    if isinstance(color, bool) or not isinstance(color, int) or not 0 <= color < len(PALETTE):
        raise _invalid(f"'color' must be an integer from 0 to {len(PALETTE) - 1}")
    return name, color


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_label", message)
