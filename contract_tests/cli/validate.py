"""Offline validation of saved JSON: a recorded response or a fixture file.

Label bodies go through the same verdicts as ``chatlabels check`` (so palette and duplicate
ids are judged too), error bodies through ``error.schema.json``, fixtures through the mock's
own ``parse_fixture`` (schema plus the rules a schema cannot express).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatlabels.kit.judge import BodyChecks, Profile, error_body_findings, label_list_findings

__all__ = ["KINDS", "Problem", "validate_document"]

KINDS = ("chat-labels", "labels", "error", "fixture")


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


def validate_document(
    data: Any, kind: str, *, profile: Profile = "strict"
) -> tuple[list[Problem], int]:
    """The problems of ``data`` read as ``kind`` (one of ``KINDS``), and how many more there
    are: a fixture's report is bounded as ``chatlabels serve`` bounds it. Empty when valid."""
    if kind == "fixture":
        from chatlabels.contract.fixtures import FixtureError, parse_fixture

        try:
            parse_fixture(data)
        except FixtureError as exc:
            return [Problem(p.pointer, p.reason) for p in exc.problems], exc.more
        return [], 0
    if kind == "error":
        findings = error_body_findings(data, check="error")
    else:
        checks = BodyChecks() if kind == "chat-labels" else BodyChecks(*(["directory"] * 3))
        findings = label_list_findings(data, profile=profile, checks=checks, schema=kind)
    problems = [
        Problem(
            f.pointer,
            f"expected {f.expected}, found {f.found}"
            + (f" [{f.check}]" if kind == "chat-labels" else "")
            + (f" (known drift: {f.drift})" if f.drift else ""),
            f.severity,
        )
        for f in findings
    ]
    return problems, 0
