"""Where the named checks register themselves: the ``Check`` record and the ``check``
decorator that fills ``CHECKS``.

A module of its own so that the check modules (``checks``, ``consistency_checks``) can all
register without importing one another. The order the checks run in is set by ``checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatlabels.kit.context import CheckContext

__all__ = ["CHECKS", "Check", "check"]


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    run: Callable[[CheckContext], None]


CHECKS: dict[str, Check] = {}


def check(summary: str) -> Callable[[Callable[[CheckContext], None]], Callable[..., None]]:
    def register(function: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        CHECKS[function.__name__] = Check(function.__name__, summary, function)
        return function

    return register
