"""What a check works with: the target, the chats, the profile, the report, and a search.

The search is Hypothesis' ``find``: it draws requests from a strategy until one fails, then
shrinks it to the simplest failing request, so the report shows the minimal example. Every
drawn request goes through the same throttled ``Target`` and is memoised, so shrinking never
sends the same request twice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from chatlabels.kit.findings import Finding, Report
from chatlabels.kit.judge import Profile, shown
from chatlabels.kit.target import Exchange, Target

__all__ = ["CheckContext", "describe_answer"]

T = TypeVar("T", bound=Hashable)


@dataclass
class CheckContext:
    """Shared by all checks of one run. ``chat_answer`` and ``directory_answer`` are fetched
    once and reused, so checks that judge the same answer do not repeat the request."""

    target: Target
    chats: list[str]
    report: Report
    profile: Profile = "strict"
    max_examples: int = 20
    seed: int = 0
    max_response_time: float | None = None
    _answers: dict[str, Exchange] = field(default_factory=dict)
    _directory: Exchange | None = None

    def chat_answer(self, chat_id: str) -> Exchange:
        if chat_id not in self._answers:
            self._answers[chat_id] = self.target.chat_labels(chat_id)
        return self._answers[chat_id]

    def directory_answer(self) -> Exchange:
        if self._directory is None:
            self._directory = self.target.directory()
        return self._directory

    def skip(self, check: str, reason: str) -> None:
        """``check`` had nothing to judge (shown SKIPPED with ``reason`` unless it found
        something anyway)."""
        self.report.skip(check, reason)

    def add(self, findings: list[Finding]) -> None:
        for finding in findings:
            self.report.add(finding)

    def search(
        self,
        strategy: st.SearchStrategy[T],
        judge: Callable[[T], list[Finding]],
        *,
        fixed: list[T] = (),  # type: ignore[assignment]
    ) -> None:
        """Judge every ``fixed`` example, then let Hypothesis look for a failing one.

        Findings of fixed examples are all reported; of the generated ones, only those of
        the minimal failing example after shrinking (with how to replay it).
        """
        memo: dict[Any, list[Finding]] = {}

        def judged(example: T) -> list[Finding]:
            if example not in memo:
                memo[example] = judge(example)
            return memo[example]

        for example in fixed:
            self.add(judged(example))
        tries = len(memo)
        try:
            minimal = find(
                strategy,
                lambda example: any(f.severity == "error" for f in judged(example)),
                settings=settings(
                    max_examples=self.max_examples,
                    database=None,
                    deadline=None,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck),
                ),
                random=random.Random(self.seed),
            )
        except NoSuchExample:
            return
        if minimal in memo and any(minimal == example for example in fixed):
            return  # already reported as a fixed example
        note = (
            f"minimal failing example found by Hypothesis after {len(memo) - tries} generated "
            f"requests; replay with --seed {self.seed}"
        )
        for finding in judged(minimal):
            self.report.add(replace(finding, note=note))


def describe_answer(exchange: Exchange) -> str:
    """An answer in one line for a finding's "found": status and body, or why none came."""
    if exchange.status is None:
        return exchange.error or "no answer"
    if exchange.is_json:
        body = shown(exchange.json)
    elif exchange.problems:
        body = f"unreadable body: {exchange.problems[0].reason}"
    else:
        body = f"non-JSON body {exchange.text[:60]!r}"
    return f"{exchange.status} {body}"
