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
    "iter_errors",
    "json_pointer",
    "load_schema",
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
