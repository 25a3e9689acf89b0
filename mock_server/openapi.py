"""``GET /openapi.json``: the OpenAPI document of ``schemas/``, made self-contained for HTTP.

On disk, ``schemas/openapi.json`` points at its sibling schema files by name
(``"$ref": "label.schema.json"``), so each schema is written once. A client fetching the
document over HTTP could not follow those names (they would resolve to ``/label.schema.json``,
and the files' ``$id`` host is not a server), and OpenAPI tools such as Prism and code
generators handle references inside one document best. So the served copy is bundled:
every referenced schema file becomes ``components/schemas/<name>`` (``label.schema.json`` ->
``label``) and every reference is rewritten to point there. ``servers`` names the server
answering, so a tool given only the document's URL tests this very mock.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify, request

from chatlabels.contract.schemas import SCHEMA_DIR, load_schema

__all__ = [
    "OPENAPI_FILE",
    "OPENAPI_PATH",
    "bundled_openapi",
    "component_name",
    "openapi_blueprint",
]

OPENAPI_FILE = SCHEMA_DIR / "openapi.json"
#: Where the document is served; the mock's own endpoint, outside every emulated dialect.
OPENAPI_PATH = "/openapi.json"
_SCHEMA_SUFFIX = ".schema.json"
_COMPONENTS = "#/components/schemas/"


def component_name(file_name: str) -> str:
    """Key in ``components/schemas``: ``chat-labels.schema.json`` -> ``chat-labels``."""
    return file_name.removesuffix(_SCHEMA_SUFFIX)


def _split_ref(ref: str, current_file: str | None) -> tuple[str | None, str]:
    """``(file name or None for the document itself, fragment)`` of a reference.

    Schema files refer to each other by bare name or by their ``$id`` URL; both end in the
    file name, which is all that identifies a schema here.
    """
    target, _, fragment = ref.partition("#")
    if not target:
        return current_file, fragment
    return target.rsplit("/", 1)[-1], fragment


def _rewrite(node: Any, current_file: str | None, needed: set[str]) -> Any:
    """A copy of ``node`` with every ``$ref`` pointing inside the bundled document."""
    if isinstance(node, list):
        return [_rewrite(item, current_file, needed) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten = {key: _rewrite(value, current_file, needed) for key, value in node.items()}
    ref = node.get("$ref")
    if isinstance(ref, str):
        file_name, fragment = _split_ref(ref, current_file)
        if file_name is not None:
            needed.add(file_name)
            rewritten["$ref"] = _COMPONENTS + _component_for(file_name, fragment)
    return rewritten


def _component_for(file_name: str, fragment: str) -> str:
    """Component name (and remaining pointer) that a ``file#fragment`` reference lands on.

    A schema's ``$defs`` entries become components of their own (``label.labelId``): code
    generators resolve ``#/components/schemas/X`` but not pointers into a component.
    """
    name = component_name(file_name)
    parts = fragment.split("/")
    if len(parts) >= 3 and parts[1] == "$defs":
        return f"{name}.{parts[2]}" + "".join("/" + part for part in parts[3:])
    return name + fragment


@cache
def _bundled_template() -> dict[str, Any]:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    needed: set[str] = set()
    bundled: dict[str, Any] = _rewrite(document, None, needed)
    schemas = bundled.setdefault("components", {}).setdefault("schemas", {})
    done: set[str] = set()
    while needed - done:
        file_name = min(needed - done)
        done.add(file_name)
        schema = {k: v for k, v in load_schema(file_name).items() if k not in {"$id", "$schema"}}
        parts = {component_name(file_name): schema}
        for def_name, definition in schema.pop("$defs", {}).items():
            parts[_component_for(file_name, f"/$defs/{def_name}")] = definition
        for name, part in parts.items():
            if name in schemas:
                raise ValueError(
                    f"{OPENAPI_FILE.name}: components/schemas/{name} clashes with {file_name}"
                )
            schemas[name] = _rewrite(part, file_name, needed)
    return bundled


def bundled_openapi(server_url: str | None = None) -> dict[str, Any]:
    """The document with every schema file inlined; ``servers`` set to ``server_url`` if given."""
    document = copy.deepcopy(_bundled_template())
    if server_url:
        document["servers"] = [{"url": server_url, "description": "This mock server"}]
    return document


def openapi_blueprint() -> Blueprint:
    """The route serving the bundled document."""
    bp = Blueprint("openapi", __name__)

    @bp.get(OPENAPI_PATH)
    def openapi_document() -> Response:
        return jsonify(bundled_openapi(request.host_url.rstrip("/")))

    return bp
