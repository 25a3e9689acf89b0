"""Fixture files: parse, validate against ``fixture.schema.json``, then check the rules a
schema cannot express, and return one normalised document or raise with every problem.

Normalised means: defaults filled in, ``color`` always present, chat ids in canonical form.
The server never starts on a half-valid file: all problems are collected and reported
together, each with the file, the JSON pointer and what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatlabels.contract import strict_json
from chatlabels.contract.bounded_read import read_regular_file
from chatlabels.contract.chat_ids import ACCEPTED_FORMS, canonical_chat_id
from chatlabels.contract.fault_rules import rules_problems
from chatlabels.contract.fixture_secrets import redactable_secrets, secret_slots
from chatlabels.contract.problems import DEFAULT_BOUNDS, ReportBounds, and_more
from chatlabels.contract.redaction import REDACTED
from chatlabels.contract.resources import FIXTURE_DIR
from chatlabels.contract.schemas import (
    PALETTE,
    integral_as_int,
    iter_errors,
    json_pointer,
    schema_reason,
)
from chatlabels.contract.value_redaction import ValueRedactor

__all__ = [
    "DEFAULT_FIXTURE",
    "MAX_FIXTURE_BYTES",
    "FixtureError",
    "FixtureProblem",
    "load_fixture",
    "parse_fixture",
]

DEFAULT_FIXTURE = FIXTURE_DIR / "default.json"
#: Largest fixture file read (``chatlabels serve --max-admin-body-bytes`` sets both).
MAX_FIXTURE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FixtureProblem:
    pointer: str
    reason: str


class FixtureError(Exception):
    """A fixture that cannot be served; ``str()`` is the report printed at start-up.

    ``problems`` lists at most ``bounds.max_problems`` (``MAX_PROBLEMS`` by default), each
    reason cut to ``bounds.max_chars``; ``more`` counts the ones left out.
    """

    def __init__(
        self,
        source: str,
        problems: Iterable[FixtureProblem],
        more: int = 0,
        *,
        bounds: ReportBounds = DEFAULT_BOUNDS,
    ) -> None:
        listed, extra = bounds.first(problems)
        self.source = source
        self.problems = [FixtureProblem(p.pointer, bounds.cut(p.reason)) for p in listed]
        self.more = more + extra
        lines = [f"{source}: {p.pointer or '/'}: {p.reason}" for p in self.problems]
        if self.more:
            lines.append(f"{source}: {and_more(self.more)}")
        super().__init__("\n".join(lines))


def load_fixture(
    path: str | Path,
    *,
    max_bytes: int = MAX_FIXTURE_BYTES,
    bounds: ReportBounds = DEFAULT_BOUNDS,
) -> dict[str, Any]:
    """Read and validate a fixture file; raise FixtureError naming the file on any problem.

    Only a regular file of at most ``max_bytes`` is read (``bounded_read`` says why).
    """
    source = str(path)
    try:
        text = read_regular_file(path, max_bytes).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FixtureError(source, [FixtureProblem("", f"cannot read file: {reason}")]) from None
    try:
        data = strict_json.loads(text)
    except json.JSONDecodeError as exc:
        problem = FixtureProblem("", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        raise FixtureError(source, [problem]) from None
    except ValueError as exc:
        raise FixtureError(source, [FixtureProblem("", f"not JSON: {exc}")]) from None
    return parse_fixture(data, source=source, bounds=bounds)


def parse_fixture(
    data: Any, *, source: str = "<fixture>", bounds: ReportBounds = DEFAULT_BOUNDS
) -> dict[str, Any]:
    """Validate an already-parsed fixture document and return its normalised copy.

    A problem's reason may quote the offending value (``'...' is too long``): the
    document's own secrets read ``[redacted]`` there, so a report never shows them.
    """
    redact = ValueRedactor(redactable_secrets(data)).redact
    problems, more = bounds.first(
        FixtureProblem(json_pointer(error.absolute_path), redact(schema_reason(error)))
        for error in iter_errors("fixture", data)
    )
    if problems:
        raise FixtureError(source, problems, more, bounds=bounds)
    fixture: dict[str, Any] = integral_as_int(data)
    problems = [FixtureProblem(p.pointer, redact(p.reason)) for p in _check_rules(fixture)]
    if problems:
        raise FixtureError(source, problems, bounds=bounds)
    return fixture


def _check_rules(fixture: dict[str, Any]) -> list[FixtureProblem]:
    problems: list[FixtureProblem] = []
    seen_ids: dict[str, int] = {}
    seen_sessions: dict[str, int] = {}
    for i, instance in enumerate(fixture["instances"]):
        at = f"/instances/{i}"
        instance.setdefault("session", "default")
        instance.setdefault("status", "WORKING")
        instance.setdefault("engine", "WEBJS")
        instance.setdefault("labels", [])
        instance.setdefault("chats", {})
        instance.setdefault("webhooks", [])
        for key, seen, what in (
            ("id", seen_ids, "instance id"),
            ("session", seen_sessions, "session"),
        ):
            value = instance[key]
            if value in seen:
                problems.append(
                    FixtureProblem(
                        f"{at}/{key}",
                        f"duplicate {what} {value!r}, already used by /instances/{seen[value]}",
                    )
                )
            seen.setdefault(value, i)
        problems += _check_labels(instance["labels"], f"{at}/labels")
        problems += _check_chats(instance, at)
    problems += [
        FixtureProblem(*p) for p in rules_problems(fixture.get("faults", []), at="/faults")
    ]
    problems += [
        FixtureProblem(
            pointer,
            f"{REDACTED} stands for a secret this mock does not hold (a dump of another "
            "server, or a new instance id); put the real value here",
        )
        for container, key, pointer in secret_slots(fixture)
        if container[key] == REDACTED
    ]
    return problems


def _check_labels(labels: list[dict[str, Any]], at: str) -> list[FixtureProblem]:
    problems = []
    seen: dict[str, int] = {}
    for j, label in enumerate(labels):
        if label["id"] in seen:
            problems.append(
                FixtureProblem(
                    f"{at}/{j}/id",
                    f"duplicate label id {label['id']!r}, already at {at}/{seen[label['id']]}",
                )
            )
        seen.setdefault(label["id"], j)
        hex_value = label.pop("colorHex", None)
        if hex_value is not None:
            hex_index = PALETTE.index(hex_value)
            if label.setdefault("color", hex_index) != hex_index:
                problems.append(
                    FixtureProblem(
                        f"{at}/{j}/colorHex",
                        f"colorHex {hex_value} is palette index {hex_index} but color is "
                        f"{label['color']} ({PALETTE[label['color']]}); "
                        "give one or make them agree",
                    )
                )
    return problems


def _check_chats(instance: dict[str, Any], at: str) -> list[FixtureProblem]:
    problems = []
    label_ids = {label["id"] for label in instance["labels"]}
    canonical: dict[str, Any] = {}
    for raw, value in instance["chats"].items():
        chat_at = f"{at}/chats/{json_pointer([raw])[1:]}"
        # A chat is its label ids, or an object with them in "labels" and what the engines
        # tell about it (name, isGroup, timestamp...); both forms are kept as given.
        chat_labels = value.setdefault("labels", []) if isinstance(value, dict) else value
        labels_at = f"{chat_at}/labels" if isinstance(value, dict) else chat_at
        chat_id = canonical_chat_id(raw)
        if chat_id is None:
            problems.append(
                FixtureProblem(
                    chat_at, f"{raw!r} is not a chat id; accepted: {', '.join(ACCEPTED_FORMS)}"
                )
            )
            continue
        if chat_id in canonical:
            problems.append(
                FixtureProblem(chat_at, f"{raw!r} is the same chat as {chat_id!r}, listed twice")
            )
            continue
        for k, label_id in enumerate(chat_labels):
            if label_id not in label_ids:
                problems.append(
                    FixtureProblem(
                        f"{labels_at}/{k}",
                        f"label {label_id!r} does not exist in this instance's labels "
                        f"(known: {', '.join(sorted(label_ids)) or 'none'})",
                    )
                )
            elif label_id in chat_labels[:k]:
                problems.append(
                    FixtureProblem(f"{labels_at}/{k}", f"label {label_id!r} listed twice")
                )
        canonical[chat_id] = value
    instance["chats"] = canonical
    return problems
