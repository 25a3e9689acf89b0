"""WAHA's request-body checks: Express's JSON parser, then NestJS's ValidationPipe.

WAHA's create and update handlers carry ``@UsePipes(new ValidationPipe({transform: true,
whitelist: true}))`` (``src/api/labels.controller.ts`` l.46, l.71 at WAHA 2025.10.4) over
``LabelBody`` (``src/structures/labels.dto.ts`` l.29-51): ``name`` ``@IsString()``,
``colorHex`` ``@IsHexColor() @IsOptional()``, ``color`` ``@IsNumber() @IsOptional()``. A body
that breaks them is a 400 whose ``message`` lists class-validator's sentence for each broken
rule, in declaration order; unknown properties are stripped, never an error. Only then do
the handler's own 422 rules run (http/label_input.py ``label_fields``).

The body reaches the pipe through Express's ``json()`` parser (body-parser, ``src/main.ts``
l.93): only ``application/json`` is parsed, anything else (or nothing) is ``{}``; invalid JSON
and a top-level value that is neither an object nor an array are a 400 with a string message;
an array gets through, and has no ``name``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from flask import request

from chatlabels.contract import strict_json
from chatlabels.mock.waha.errors import WahaError

__all__ = ["label_body"]

#: validator.js 13.15.15 ``isHexColor`` (``lib/isHexColor.js`` l.9), used by ``@IsHexColor``.
_HEX_COLOR = re.compile(r"#?(?:[0-9A-F]{3}|[0-9A-F]{4}|[0-9A-F]{6}|[0-9A-F]{8})", re.IGNORECASE)

#: class-validator 0.14.0's default messages (``IsString.ts`` l.22, ``IsHexColor.ts`` l.26,
#: ``IsNumber.ts`` l.55), ``$property`` filled in.
NAME_MUST_BE_A_STRING = "name must be a string"
COLOR_HEX_MUST_BE_HEX = "colorHex must be a hexadecimal color"
COLOR_MUST_BE_A_NUMBER = "color must be a number conforming to the specified constraints"

#: Longest body text quoted back in a parse error (V8 quotes it whole; the mock bounds it).
_QUOTED = 40


def label_body() -> dict[str, Any]:
    """The ``LabelBody`` of a create or update: only its three properties, each of the type
    its decorators ask for, or a 400 listing every broken rule."""
    body = _express_json()
    problems = []
    if not isinstance(body.get("name"), str):
        problems.append(NAME_MUST_BE_A_STRING)
    color_hex = body.get("colorHex")
    if color_hex is not None and not (
        isinstance(color_hex, str) and _HEX_COLOR.fullmatch(color_hex)
    ):
        problems.append(COLOR_HEX_MUST_BE_HEX)
    color = body.get("color")
    if color is not None and not _is_number(color):
        problems.append(COLOR_MUST_BE_A_NUMBER)
    if problems:
        raise WahaError(400, problems)
    # whitelist: true strips everything else (id, foo...) without a word.
    return {key: body[key] for key in ("name", "colorHex", "color") if key in body}


def _is_number(value: Any) -> bool:
    """class-validator's ``isNumber``: a JavaScript number, not NaN or infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _express_json() -> dict[str, Any]:
    """The body as WAHA's pipe receives it (``{}`` when Express did not parse one)."""
    if not request.is_json:
        return {}
    text = request.get_data().decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        body = strict_json.loads(text)
    except ValueError as exc:
        raise WahaError(400, f"{exc} in the JSON body") from None
    if isinstance(body, dict):
        return body
    if isinstance(body, list):
        return {}  # an array has no name: the pipe answers "name must be a string"
    # body-parser's strict mode: only an object or an array may be the top-level value.
    stripped = text.strip()
    quoted = stripped if len(stripped) <= _QUOTED else stripped[:_QUOTED] + "..."
    raise WahaError(400, f"Unexpected token '{stripped[0]}', \"{quoted}\" is not valid JSON")
