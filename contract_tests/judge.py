"""Pure verdicts on bodies already received: no HTTP here, so they are easy to test.

``label_list_findings`` judges a Get Chat Labels (or directory) body against the schemas in
``schemas/`` and splits what it finds between the named checks: the shape
(``chat_labels_body_conforms``), the colour pair (``color_hex_matches_color``) and duplicate
ids (``label_ids_unique_in_chat``), each with the JSON pointer of the offending value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema.exceptions import ValidationError

from chatlabels.contract.schemas import PALETTE, iter_errors, json_pointer, load_schema
from chatlabels.kit.findings import Finding, RequestInfo, Severity

__all__ = [
    "BodyChecks",
    "Profile",
    "error_body_findings",
    "label_list_findings",
    "shown",
]

Profile = Literal["strict", "lenient"]

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_LABEL_FIELDS = tuple(load_schema("label.schema.json")["properties"])


@dataclass(frozen=True)
class BodyChecks:
    """Which check name each kind of body finding is reported under."""

    conforms: str = "chat_labels_body_conforms"
    palette: str = "color_hex_matches_color"
    unique: str = "label_ids_unique_in_chat"


def shown(value: Any, limit: int = 120) -> str:
    """A value as JSON text, cut short so a huge body cannot flood a report."""
    text = json.dumps(value, ensure_ascii=False, default=repr)  # NOT_JSON shows as such
    return text if len(text) <= limit else text[:limit] + "..."


def label_list_findings(
    body: Any,
    *,
    profile: Profile = "strict",
    request: RequestInfo | None = None,
    checks: BodyChecks = BodyChecks(),
    schema: str = "chat-labels",
) -> list[Finding]:
    """Every finding on a list-of-labels body, never stopping at the first."""
    findings: list[Finding] = []

    def add(check: str, pointer: str, expected: str, found: str, **extra: Any) -> None:
        findings.append(Finding(check, request, pointer, expected, found, **extra))

    items = _items(body, profile, checks.conforms, add)
    if items is None:
        return findings
    if isinstance(body, list):
        for error in iter_errors(schema, body):
            if not error.path:  # root-level (e.g. maxItems); item errors are judged below
                add(checks.conforms, "", _expected(error), shown(error.instance))
    first_at: dict[str, str] = {}
    for key, item in items:
        at = "/" + json_pointer([key])[1:]
        for error in iter_errors("label", item):
            _schema_finding(error, item, at, profile, checks.conforms, add)
        if not isinstance(item, dict):
            continue
        _palette_finding(item, at, checks.palette, add)
        label_id = item.get("id")
        if isinstance(label_id, str):
            if label_id in first_at:
                add(
                    checks.unique,
                    f"{at}/id",
                    f"an id not already used at {first_at[label_id]}/id",
                    shown(label_id),
                )
            first_at.setdefault(label_id, at)
    return findings


def _items(body: Any, profile: Profile, check: str, add: Any) -> list[tuple[str, Any]] | None:
    """The (key, label) pairs of the body, after judging its root."""
    if isinstance(body, list):
        return [(str(i), item) for i, item in enumerate(body)]
    if isinstance(body, dict) and all(key.isdigit() for key in body):
        # Quirk: the provider's docs show {"0": {...}} (PHP's json_encode of a non-list array).
        severity: Severity = "warning" if profile == "lenient" else "error"
        add(
            check,
            "",
            "a JSON array of labels",
            f"an object keyed by index ({shown(body, 60)})",
            severity=severity,
            drift="php-object-root",
        )
        return sorted(body.items(), key=lambda pair: int(pair[0]))
    add(check, "", "a JSON array of labels", shown(body))
    return None


def _schema_finding(
    error: ValidationError, item: Any, at: str, profile: Profile, check: str, add: Any
) -> None:
    tolerated: Severity = "warning" if profile == "lenient" else "error"
    if error.validator == "oneOf":
        return  # the colour pair: judged by _palette_finding with a precise pointer
    if error.validator == "additionalProperties":
        for extra in sorted(set(item) - set(_LABEL_FIELDS)):
            add(
                check,
                f"{at}/{json_pointer([extra])[1:]}",
                f"no field besides {', '.join(_LABEL_FIELDS)}",
                f"extra field {extra!r} = {shown(item[extra])}",
                severity=tolerated,
                drift="extra-label-field",
            )
        return
    if error.validator == "required":
        missing = error.message.split("'")[1]
        add(check, f"{at}/{missing}", "a required field", "missing")
        return
    pointer = at + json_pointer(error.path)
    value = error.instance
    if list(error.path) == ["colorHex"] and isinstance(value, str) and _HEX.fullmatch(value):
        if value == value.lower():
            return  # well-formed hex outside the palette: a colour-pair finding
        add(
            check,
            pointer,
            "lower-case #rrggbb",
            shown(value),
            severity=tolerated,
            drift="upper-case-hex",
        )
        return
    add(check, pointer, _expected(error), shown(value))


def _palette_finding(item: dict[str, Any], at: str, check: str, add: Any) -> None:
    color, hex_value = item.get("color"), item.get("colorHex")
    if isinstance(color, float) and color.is_integer():
        color = int(color)  # JSON Schema counts 1.0 as an integer: so must the palette check
    if isinstance(color, bool) or not isinstance(color, int) or not 0 <= color < len(PALETTE):
        return
    if not isinstance(hex_value, str) or not _HEX.fullmatch(hex_value):
        return
    if hex_value.lower() != PALETTE[color]:
        add(check, f"{at}/colorHex", f"{PALETTE[color]} (PALETTE[{color}])", shown(hex_value))


def _expected(error: ValidationError) -> str:
    value = error.validator_value
    descriptions = {
        "type": f"a JSON {value}",
        "pattern": f"a string matching {value}",
        "minimum": f"a number >= {value}",
        "maximum": f"a number <= {value}",
        "maxLength": f"at most {value} characters",
        "minLength": f"at least {value} characters",
        "maxItems": f"at most {value} items",
        "enum": "one of " + ", ".join(map(str, value)) if isinstance(value, list) else "",
    }
    return descriptions.get(str(error.validator)) or error.message


def error_body_findings(
    body: Any,
    *,
    check: str,
    request: RequestInfo | None = None,
    status: int | None = None,
    schema: str = "error",
    status_field: str = "status",
) -> list[Finding]:
    """Findings for a 4xx/5xx body that should match ``error.schema.json``.

    With the HTTP ``status`` given, the body's own ``status`` must repeat it: clients that
    read the body rather than the status line act on that number.
    """
    findings = [
        Finding(
            check,
            request,
            json_pointer(error.path),
            f"error body: {_expected(error)}",
            shown(error.instance),
        )
        for error in iter_errors(schema, body)
    ]
    claimed = body.get(status_field) if isinstance(body, dict) else None
    if status is not None and isinstance(claimed, int) and claimed != status:
        at, expected = f"/{status_field}", f"{status}, the HTTP status"
        findings.append(Finding(check, request, at, expected, shown(claimed)))
    return findings
