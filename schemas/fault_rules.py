"""Fault-rule validation: the schema, then what a schema cannot say.

Shared by fixture validation (rules in a fixture file) and the mock's control API (rules
added at run time), so both report the same problems at the same JSON pointers.
"""

from __future__ import annotations

from typing import Any

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, canonical_chat_id
from chatlabels.contract.schemas import iter_errors, json_pointer, schema_reason

__all__ = ["rules_problems"]


def rules_problems(
    rules: Any, *, at: str = "", taken_ids: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Every problem of a list of rules as ``(json_pointer, reason)``; empty when valid.

    Checks the schema and what it cannot say: a latency range with min <= max, a chat id
    in an accepted form, ids unique among ``rules`` and not in ``taken_ids``.
    """
    if not isinstance(rules, list):
        return [(at or "/", "expected a fault rule object or an array of them")]
    problems: list[tuple[str, str]] = []
    seen = set(taken_ids)
    for i, rule in enumerate(rules):
        here = f"{at}/{i}"
        errors = list(iter_errors("fault-rule", rule))
        problems += [(here + json_pointer(e.absolute_path), schema_reason(e)) for e in errors]
        if errors:
            continue
        latency = rule.get("latency_ms")
        if isinstance(latency, dict) and latency["min"] > latency["max"]:
            problems.append((f"{here}/latency_ms", "min is greater than max"))
        chat = rule.get("match", {}).get("chat")
        if chat is not None and canonical_chat_id(chat) is None:
            reason = f"{chat!r} is not a chat id; accepted: {', '.join(ACCEPTED_FORMS)}"
            problems.append((f"{here}/match/chat", reason))
        if "id" in rule:
            if rule["id"] in seen:
                problems.append((f"{here}/id", f"fault id {rule['id']!r} is already in use"))
            seen.add(rule["id"])
    return problems
