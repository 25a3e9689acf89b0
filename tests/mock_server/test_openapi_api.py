"""The OpenAPI document agrees with the schemas, the routes and the validators of the mock.

schemas/openapi.json is written by hand; these tests make it drift-proof: every ``$ref``
resolves, every route is documented and every documented operation routed, the success and
error bodies are the schema files themselves, the patterns say what the mock's code decides,
and the served copy is self-contained and means the same as the files.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from chatlabels.contract.chat_ids import is_chat_id
from chatlabels.contract.schemas import BASE_URI, SCHEMA_DIR, load_schema, validator
from chatlabels.mock import DEFAULT_FIXTURE, parse_fixture
from chatlabels.mock.app import create_app
from chatlabels.mock.openapi import OPENAPI_FILE, bundled_openapi
from chatlabels.mock.state.store import Store

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

#: Routes deliberately left out of the document, with the reason.
UNDOCUMENTED_ROUTES = {
    # An empty chat id: answered 400 so the client learns what is missing; in the document it
    # is GET /v2/labels/chats/{chatId} with a chatId that is not a chat id.
    ("GET", "/v2/labels/chats/"),
}

#: operationId -> the schema file its success body is, exactly.
SUCCESS_SCHEMAS = {
    "getChatLabels": "chat-labels.schema.json",
    "getLabels": "labels.schema.json",
    "createLabel": "label.schema.json",
    "getLabel": "label.schema.json",
    "updateLabel": "label.schema.json",
    "wahaGetLabels": "labels.schema.json",
    "wahaCreateLabel": "label.schema.json",
    "wahaUpdateLabel": "label.schema.json",
    "wahaGetChatLabels": "chat-labels.schema.json",
    "adminDumpFixture": "fixture.schema.json",
}

#: tag -> the schema file of its error bodies.
ERROR_SCHEMAS = {"provider": "error.schema.json", "waha": "waha-error.schema.json"}


def document() -> dict[str, Any]:
    return json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method.upper(), operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow document-internal ``$ref``s (responses, parameters) to the object itself."""
    while node.get("$ref", "").startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def json_schema_of(doc: dict[str, Any], response: dict[str, Any]) -> dict[str, Any] | None:
    content = resolve(doc, response).get("content", {}).get("application/json")
    return None if content is None else content["schema"]


def _template(path: str) -> str:
    """``/v2/labels/<label_id>`` and ``/v2/labels/{labelId}`` both become ``/v2/labels/{}``."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_document_is_openapi_3_1_with_json_schema_2020_12() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    assert "jsonSchemaDialect" not in doc  # the 3.1 default: Draft 2020-12, as schemas/ uses


def test_every_ref_resolves_on_disk() -> None:
    """Relative refs resolve against the schema files' $id base, like a file-based tool does."""
    doc = document()
    registry = Registry().with_resources(
        (load_schema(path.name)["$id"], DRAFT202012.create_resource(load_schema(path.name)))
        for path in SCHEMA_DIR.glob("*.schema.json")
    )
    registry = registry.with_resource(
        BASE_URI + OPENAPI_FILE.name, DRAFT202012.create_resource(doc)
    )
    resolver = registry.resolver(base_uri=BASE_URI + OPENAPI_FILE.name)
    unresolved = []
    for ref in sorted(set(refs(doc))):
        try:
            resolver.lookup(ref)
        except Exception as exc:  # referencing raises several Unresolvable kinds
            unresolved.append(f"{ref}: {exc}")
    assert unresolved == []


def test_every_schema_file_is_used_by_the_document() -> None:
    used = {ref.split("#")[0] for ref in refs(document())} - {""}
    files = {path.name for path in SCHEMA_DIR.glob("*.schema.json")}
    assert files - used == set(), "document these schemas or say why not"


def test_routes_and_documented_operations_are_the_same_set() -> None:
    app = create_app(Store(parse_fixture(json.loads(DEFAULT_FIXTURE.read_text("utf-8")))))
    routed = {
        (method, _template(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    } - {(method, _template(path)) for method, path in UNDOCUMENTED_ROUTES}
    documented = {(method, _template(path)) for path, method, _ in operations(document())}
    assert sorted(routed - documented) == [], "routes missing from schemas/openapi.json"
    assert sorted(documented - routed) == [], "documented operations the mock does not serve"


def test_operation_ids_are_unique_and_every_operation_is_tagged() -> None:
    ops = list(operations(document()))
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids))
    tags = {tag["name"] for tag in document()["tags"]}
    assert all(len(op["tags"]) == 1 and op["tags"][0] in tags for _, _, op in ops)


@pytest.mark.parametrize(("operation_id", "file_name"), sorted(SUCCESS_SCHEMAS.items()))
def test_success_bodies_are_the_schema_files(operation_id: str, file_name: str) -> None:
    doc = document()
    [operation] = [op for _, _, op in operations(doc) if op["operationId"] == operation_id]
    [status] = [code for code in operation["responses"] if code.startswith("2")]
    assert json_schema_of(doc, operation["responses"][status]) == {"$ref": file_name}


def test_error_bodies_of_each_dialect_are_its_error_schema() -> None:
    doc = document()
    checked = 0
    for _, _, operation in operations(doc):
        expected = ERROR_SCHEMAS.get(operation["tags"][0])
        if expected is None:
            continue
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert json_schema_of(doc, response) == {"$ref": expected}, (operation, status)
                checked += 1
    assert checked > 50


def test_every_operation_documents_its_auth_failure() -> None:
    for _, _, operation in operations(document()):
        if operation["security"]:
            assert "401" in operation["responses"], operation["operationId"]


def _component(name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][name]


def test_chat_id_pattern_is_anchored() -> None:
    pattern = _component("ChatId")["pattern"]
    assert pattern.startswith("^(?:") and pattern.endswith(")$")


@given(st.one_of(st.from_regex(_component("ChatId")["pattern"][1:-1], fullmatch=True), st.text()))
def test_chat_id_pattern_accepts_exactly_the_chat_id_grammar(raw: str) -> None:
    """The document's ChatId pattern (ECMA: ^...$ is a full match) agrees with chat_ids.py."""
    note(repr(raw))
    pattern = _component("ChatId")["pattern"][1:-1]
    assert (re.fullmatch(pattern, raw) is not None) == is_chat_id(raw)


def test_label_name_pattern_is_the_not_blank_rule_of_label_input() -> None:
    """label_input rejects a name whose ``strip()`` is empty: the pattern must find a character
    that is not ``isspace()``, for every code point, in both Python's and ECMA's regex."""
    pattern = re.compile(_component("LabelInput")["properties"]["name"]["pattern"])
    disagree = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF
        and (pattern.search(chr(code)) is None) != chr(code).isspace()
    ]
    assert disagree == []


# -- the served, bundled document ------------------------------------------------------


@pytest.fixture(scope="module")
def served(default_server: Any) -> dict[str, Any]:
    response = requests.get(f"{default_server.url}/openapi.json", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def test_served_document_names_the_answering_server(
    served: dict[str, Any], default_server: Any
) -> None:
    assert served["servers"] == [{"url": default_server.url, "description": "This mock server"}]


def test_served_document_is_self_contained(served: dict[str, Any]) -> None:
    external = sorted({ref for ref in refs(served) if not ref.startswith("#/")})
    assert external == []
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(served))
    resolver = registry.resolver(base_uri="urn:doc")
    for ref in set(refs(served)):
        resolver.lookup(ref)  # raises when a pointer leads nowhere
    assert not any("$id" in schema for schema in served["components"]["schemas"].values())


def test_served_document_is_the_file_plus_the_bundled_schemas(served: dict[str, Any]) -> None:
    assert served == bundled_openapi(served["servers"][0]["url"])
    for path in SCHEMA_DIR.glob("*.schema.json"):
        bundled = served["components"]["schemas"][path.name.removesuffix(".schema.json")]
        original = load_schema(path.name)
        assert bundled["title"] == original["title"]
        assert bundled.keys() == original.keys() - {"$id", "$schema", "$defs"}
        # each $defs entry is a component of its own, which code generators can resolve
        name = path.name.removesuffix(".schema.json")
        for def_name in original.get("$defs", {}):
            assert f"{name}.{def_name}" in served["components"]["schemas"]
    assert '"$defs"' not in json.dumps(served)  # no key left, only prose


def _bundled_validator(served: dict[str, Any], name: str) -> Draft202012Validator:
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(served))
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry)


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        ("labels", [{"id": "1", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}]),
        ("labels", [{"id": "1", "name": "New Customer", "color": 0, "colorHex": "#64c4ff"}]),
        ("labels", [{"id": "x", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}]),
        ("chat-labels", {"0": {"id": "1", "name": "A", "color": 0, "colorHex": "#ff9485"}}),
        ("error", {"status": 401, "message": "no", "error": "unauthorized"}),
        ("waha-error", {"message": "Unauthorized", "statusCode": 401}),
        ("waha-error", {"message": "Unauthorized", "statusCode": 401, "extra": 1}),
        ("fixture", json.loads(DEFAULT_FIXTURE.read_text("utf-8"))),
        ("fixture", {"instances": [{"id": "1", "token": "t", "chats": {"1@c.us": ["x"]}}]}),
    ],
)
def test_bundled_schemas_judge_like_the_files(
    served: dict[str, Any], name: str, instance: Any
) -> None:
    """Inlining rewrote every reference: the bundled copy accepts and rejects what the file does."""
    bundled = _bundled_validator(served, name)
    assert bundled.is_valid(instance) == validator(f"{name}.schema.json").is_valid(instance)


def test_real_answers_validate_against_the_served_document(
    served: dict[str, Any], default_server: Any
) -> None:
    auth = {"instance_id": "123456789", "access_token": "123456789"}
    answer = requests.get(f"{default_server.url}/v2/labels", params=auth, timeout=5).json()
    assert _bundled_validator(served, "labels").is_valid(answer)
    chats = requests.get(f"{default_server.url}/v2/labels/3/chats", params=auth, timeout=5).json()
    assert chats and _bundled_validator(served, "LabelChats").is_valid(chats)
