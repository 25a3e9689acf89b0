"""The JSON Schemas in ``schemas/``, loaded once, and the facts derived from them.

The schemas are the single source of truth: the mock validates fixtures and its own output
with them, the kit validates targets with them, and the colour palette is read out of
``label.schema.json`` rather than written down a second time in code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from chatlabels.contract.resources import SCHEMA_DIR

__all__ = [
    "PALETTE",
    "SCHEMA_DIR",
    "SCHEMA_NAMES",
    "color_hex",
    "integral_as_int",
    "iter_errors",
    "json_pointer",
    "load_schema",
    "schema_reason",
    "validator",
]

BASE_URI = "https://chatlabels.dev/schemas/"

#: Short names accepted wherever a schema is chosen (``chatlabels validate --kind``).
SCHEMA_NAMES = {
    "label": "label.schema.json",
    "chat-labels": "chat-labels.schema.json",
    "labels": "labels.schema.json",
    "error": "error.schema.json",
    "fixture": "fixture.schema.json",
    "fault-rule": "fault-rule.schema.json",
    "waha-error": "waha-error.schema.json",
    "webhook-event": "webhook-event.schema.json",
}


def load_schema(file_name: str) -> dict[str, Any]:
    """Return the parsed schema file ``schemas/<file_name>``."""
    return _all_schemas()[file_name]


@cache
def _all_schemas() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    }


@cache
def _registry() -> Registry:
    resources = [
        (schema["$id"], Resource.from_contents(schema))
        for schema in _all_schemas().values()
        if "$id" in schema
    ]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for a schema given by short name (``"label"``) or file name."""
    file_name = SCHEMA_NAMES.get(name, name)
    return Draft202012Validator(load_schema(file_name), registry=_registry())


def json_pointer(path: Any) -> str:
    """RFC 6901 pointer for a jsonschema error path (a deque of keys and indexes)."""
    parts = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "".join("/" + part for part in parts)


#: Validators whose jsonschema message opens with the whole offending value (``[{...}, ...]
#: is too long``): a report says instead what is wrong with it, and by how much.
_SIZE_WORDS = {
    "maxItems": ("items", "at most", "allowed"),
    "minItems": ("items", "at least", "required"),
    "maxLength": ("characters", "at most", "allowed"),
    "minLength": ("characters", "at least", "required"),
    "maxProperties": ("properties", "at most", "allowed"),
    "minProperties": ("properties", "at least", "required"),
}
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def schema_reason(error: ValidationError) -> str:
    """What is wrong, in words that do not quote a large value whole: ``21 items, at most
    20 allowed`` rather than the 21 items followed by ``is too long``."""
    words = _SIZE_WORDS.get(str(error.validator))
    if words is not None and hasattr(error.instance, "__len__"):
        unit, bound, verb = words
        return f"{len(error.instance)} {unit}, {bound} {error.validator_value} {verb}"
    if error.validator in ("anyOf", "oneOf"):
        return _alternatives_reason(error)
    if error.validator == "uniqueItems":
        return "the same item appears more than once"
    if error.validator == "additionalProperties":
        return f"{error.message} (remove it or check its spelling)"
    return str(error.message)


def _alternatives_reason(error: ValidationError) -> str:
    """For an ``anyOf``/``oneOf`` that nothing matched: the keys it asks for one of, or what
    the schema says of itself, rather than the whole value."""
    options: Any = error.validator_value
    if all(isinstance(o, dict) and list(o) == ["required"] for o in options):
        names = ", ".join(" and ".join(o["required"]) for o in options)
        return f"needs one of: {names}"
    kind = "null" if error.instance is None else "a number"
    kind = next((name for t, name in _JSON_TYPES.items() if isinstance(error.instance, t)), kind)
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    said = f": {description}" if description else ""
    return f"{kind} that matches none of the forms allowed here{said}"


def integral_as_int(document: Any) -> Any:
    """A copy of ``document`` with every whole-number float (``2.0``, ``5e2``) made an int.

    JSON Schema calls ``2.0`` an integer, so a fixture or a fault rule may say ``"color":
    2.0`` or ``"status": 503.0`` and be valid; the mock uses such numbers as palette indexes,
    HTTP statuses and ``Retry-After`` values, where only an int will do.
    """
    if isinstance(document, dict):
        return {key: integral_as_int(value) for key, value in document.items()}
    if isinstance(document, list):
        return [integral_as_int(value) for value in document]
    if isinstance(document, float) and document.is_integer():
        return int(document)
    return document


def iter_errors(name: str, instance: Any) -> Iterator[ValidationError]:
    """Every violation of schema ``name`` by ``instance``, shallowest first."""
    yield from sorted(validator(name).iter_errors(instance), key=lambda e: (len(e.path), e.path))


def _palette_from_schema() -> tuple[str, ...]:
    pairs = load_schema("label.schema.json")["$defs"]["palette"]["oneOf"]
    by_index = {
        p["properties"]["color"]["const"]: p["properties"]["colorHex"]["const"] for p in pairs
    }
    return tuple(by_index[i] for i in range(len(by_index)))


#: WhatsApp's label colour palette: ``PALETTE[color] == colorHex``.
PALETTE: tuple[str, ...] = _palette_from_schema()


def color_hex(color: int) -> str:
    """The hex for a palette index; WAHA answers ``#000000`` past the palette's end."""
    return PALETTE[color] if 0 <= color < len(PALETTE) else "#000000"
