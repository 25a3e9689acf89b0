"""Reports of many problems stay readable and small: the first few listed, the rest counted.

A 6 MB fixture with a mistake repeated in every chat used to produce a 59 MB report on
stderr and a 204 MB error answer: one line per problem, and jsonschema quoting the whole
offending value in each. Here every report lists at most ``MAX_PROBLEMS`` problems, each
reason cut to ``MAX_REASON_CHARS``, and says how many more there are; ``ReportBounds`` carries
other numbers where a user chose them (``chatlabels serve --max-problems``,
``--max-problem-chars``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "DEFAULT_BOUNDS",
    "MAX_PROBLEMS",
    "MAX_REASON_CHARS",
    "ReportBounds",
    "and_more",
    "cut",
    "first_problems",
]

#: Problems listed in one report (the others are counted).
MAX_PROBLEMS = 20
#: Characters of one problem's reason.
MAX_REASON_CHARS = 300

T = TypeVar("T")


def first_problems(problems: Iterable[T], limit: int = MAX_PROBLEMS) -> tuple[list[T], int]:
    """The first ``limit`` problems and how many more followed (all are consumed)."""
    listed: list[T] = []
    more = 0
    for problem in problems:
        if len(listed) < limit:
            listed.append(problem)
        else:
            more += 1
    return listed, more


def cut(reason: str, limit: int = MAX_REASON_CHARS) -> str:
    """``reason`` cut to ``limit`` characters, saying so."""
    return reason if len(reason) <= limit else f"{reason[: max(0, limit - 12)]}... (cut)"


@dataclass(frozen=True)
class ReportBounds:
    """How much of a report is shown: problems listed, characters of each reason."""

    max_problems: int = MAX_PROBLEMS
    max_chars: int = MAX_REASON_CHARS

    def first(self, problems: Iterable[T]) -> tuple[list[T], int]:
        return first_problems(problems, self.max_problems)

    def cut(self, reason: str) -> str:
        return cut(reason, self.max_chars)


DEFAULT_BOUNDS = ReportBounds()


def and_more(more: int) -> str:
    """The closing words of a report that did not list everything ("" when it did)."""
    return f"and {more} more problem{'s' if more != 1 else ''} (fix these first)" if more else ""
