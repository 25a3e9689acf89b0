"""Fault rules: make matching requests of the emulated API fail the ways real ones do.

A rule (``schemas/fault-rule.schema.json``) matches by method, path glob, instance and chat,
and applies always, to the next ``times`` matching requests, or with a ``probability``
drawn from its own ``random.Random(seed)``, so a run with the same requests in the same
order fails identically every time. Rules are consulted in the order they were added:
a rule that only adds latency lets the next rules be consulted too (latencies add up); the
first firing rule with another effect (status, dropped connection, malformed JSON, object
root) decides the answer and ends the search. All rule state lives in ``FaultRules`` under
one lock.
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import random
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.fault_rules import rules_problems
from chatlabels.contract.problems import DEFAULT_BOUNDS, ReportBounds
from chatlabels.contract.schemas import integral_as_int
from chatlabels.mock.http.errors import ApiError, InvalidDocument
from chatlabels.mock.http.parsed_request import ParsedRequest

__all__ = ["DROP_UNSUPPORTED", "FaultPlan", "FaultRules"]

#: Why a rule that drops the connection is refused on a server that cannot do it.
DROP_UNSUPPORTED = (
    "drop_connection needs the waitress server: granian, the default of chatlabels serve, "
    "always answers once the app has run; restart with --server waitress (or --server auto "
    "with this rule in the fixture)"
)

#: The provider's documented error texts (contract section 2); other statuses use the
#: HTTP reason phrase.
_PROVIDER_ERRORS = {
    400: ("invalid_parameter", "Bad Request - Invalid Parameter Format"),
    401: ("unauthorized", "Unauthorized - Invalid or Missing Access Token"),
    403: ("quota_reached", "Forbidden - Quota or Limit Reached"),
    429: ("rate_limited", "Too Many Requests - Rate Limit Reached"),
    500: ("internal_error", "Internal Server Error - Unexpected Failure"),
}
_TERMINAL_EFFECTS = ("status", "drop_connection", "malformed_json", "object_root")


def _default_error(status: int) -> tuple[str, str]:
    if status in _PROVIDER_ERRORS:
        return _PROVIDER_ERRORS[status]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_") or "error", phrase


@dataclass
class FaultPlan:
    """What the matching rules do to one request, decided before it is handled."""

    rule_ids: list[str] = field(default_factory=list)
    latency_seconds: float = 0.0
    error: ApiError | None = None
    drop_connection: bool = False
    malformed_json: bool = False
    object_root: bool = False


class _ActiveRule:
    """One rule with its own counter and random generator."""

    def __init__(self, rule: dict[str, Any]) -> None:
        self.rule = rule
        self.remaining: int | None = rule.get("times")
        self.rng = random.Random(rule.get("seed", 0))

    def matches(self, parsed: ParsedRequest) -> bool:
        match = self.rule.get("match", {})
        return (
            ("method" not in match or match["method"].upper() == parsed.method)
            and ("path" not in match or fnmatch.fnmatchcase(parsed.path, match["path"]))
            and ("instance" not in match or parsed.names_instance(match["instance"]))
            and ("chat" not in match or match["chat"] == parsed.chat)
        )

    def fires(self) -> bool:
        probability = self.rule.get("probability")
        return probability is None or self.rng.random() < probability

    def latency_seconds(self) -> float:
        latency = self.rule.get("latency_ms", 0)
        if isinstance(latency, dict):
            latency = self.rng.uniform(latency["min"], latency["max"])
        return float(latency) / 1000

    def as_json(self) -> dict[str, Any]:
        shown = copy.deepcopy(self.rule)
        if self.remaining is not None:
            shown["times"] = self.remaining
        return shown


class FaultRules:
    """The active rules (from the fixture and the control API) and their state."""

    def __init__(self, rules: list[dict[str, Any]] | None = None, *, can_drop: bool = True) -> None:
        """``can_drop``: whether the server can drop a connection (else such rules are
        refused, see ``unsupported``)."""
        self._lock = threading.Lock()
        self._can_drop = can_drop
        self.load(rules or [])

    def unsupported(self, rules: list[dict[str, Any]], *, at: str = "") -> list[tuple[str, str]]:
        """``(json_pointer, reason)`` of each valid rule this server cannot apply."""
        if self._can_drop:
            return []
        return [
            (f"{at}/{i}/drop_connection", DROP_UNSUPPORTED)
            for i, rule in enumerate(rules)
            if isinstance(rule, dict) and rule.get("drop_connection")
        ]

    def load(self, rules: list[dict[str, Any]]) -> None:
        """Replace every rule with ``rules`` (already valid); ``reset`` returns to them.

        Generated ids start again at ``fault-1``, so a reset run names its rules alike.
        """
        with self._lock:
            self._ids = itertools.count(1)
            taken = frozenset(rule["id"] for rule in rules if "id" in rule)
            self._loaded = [self._normalised(rule, taken) for rule in rules]
            self._active = [_ActiveRule(copy.deepcopy(rule)) for rule in self._loaded]

    def reset(self) -> None:
        """Back to the loaded rules, counters and random generators restarted."""
        self.load(self._loaded)

    def add(
        self, rules: list[dict[str, Any]], *, bounds: ReportBounds = DEFAULT_BOUNDS
    ) -> list[dict[str, Any]]:
        """Add rules after the existing ones, all or none; InvalidDocument lists the problems
        (as many as ``bounds`` allows)."""
        with self._lock:
            taken = frozenset(active.rule["id"] for active in self._active)
            problems = rules_problems(rules, taken_ids=taken)
            problems = problems or self.unsupported(rules)
            if problems:
                raise InvalidDocument(
                    "invalid_fault_rule", "The fault rules were not added", problems, bounds=bounds
                )
            taken |= {rule["id"] for rule in rules if "id" in rule}
            added = [_ActiveRule(self._normalised(rule, taken)) for rule in rules]
            self._active += added
            return [active.as_json() for active in added]

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [active for active in self._active if active.rule["id"] != rule_id]
            removed = len(kept) != len(self._active)
            self._active = kept
            return removed

    def clear(self) -> int:
        with self._lock:
            count = len(self._active)
            self._active = []
            return count

    @property
    def active(self) -> bool:
        """True while any rule is active (read without the lock: a list's truth is atomic)."""
        return bool(self._active)

    def rules(self) -> list[dict[str, Any]]:
        """The active rules as given, ``times`` showing how many applications remain."""
        with self._lock:
            return [active.as_json() for active in self._active]

    def plan(self, parsed: ParsedRequest) -> FaultPlan | None:
        """Decide the faults for one request, spending counters and random draws."""
        plan = FaultPlan()
        with self._lock:
            for active in list(self._active):
                if not (active.matches(parsed) and active.fires()):
                    continue
                plan.rule_ids.append(active.rule["id"])
                plan.latency_seconds += active.latency_seconds()
                if active.remaining is not None:
                    active.remaining -= 1
                    if active.remaining == 0:
                        self._active.remove(active)
                if any(effect in active.rule for effect in _TERMINAL_EFFECTS):
                    self._apply_terminal(active.rule, plan)
                    break
        return plan if plan.rule_ids else None

    @staticmethod
    def _apply_terminal(rule: dict[str, Any], plan: FaultPlan) -> None:
        if "status" in rule:
            error, message = _default_error(rule["status"])
            headers = {"Retry-After": str(rule["retry_after"])} if "retry_after" in rule else {}
            plan.error = ApiError(
                rule["status"],
                rule.get("error", error),
                rule.get("message", message),
                headers=headers,
            )
        plan.drop_connection = rule.get("drop_connection", False)
        plan.malformed_json = rule.get("malformed_json", False)
        plan.object_root = rule.get("object_root", False)

    def _normalised(self, rule: dict[str, Any], taken: frozenset[str]) -> dict[str, Any]:
        """A copy with an id (``fault-<n>``, never one in ``taken``), a canonical chat, and
        whole numbers as ints (a ``"status": 503.0`` is a 503)."""
        rule = integral_as_int(rule)
        if "id" not in rule:
            rule["id"] = next(f"fault-{n}" for n in self._ids if f"fault-{n}" not in taken)
        chat = rule.get("match", {}).get("chat")
        if chat is not None:
            rule["match"]["chat"] = canonical_chat_id(chat)
        return rule
