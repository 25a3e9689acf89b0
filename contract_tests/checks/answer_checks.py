"""Checks on how every answer was delivered rather than on what it says: strict JSON, an
honest ``Content-Encoding``, a body within ``--max-body``, a time within
``--max-response-time``. They judge every exchange the run made before them, so they run
last (see ``endpoint_checks.RUN_ORDER``).

The problems themselves are found by ``Target`` as it reads each answer (``wire.py`` and
``strict_json.inspect``): a body is read once, and a check here only reports.
"""

from __future__ import annotations

from chatlabels.kit.checks.registry import check
from chatlabels.kit.context import CheckContext
from chatlabels.kit.findings import Finding

__all__ = ["answers_are_strict_json", "answers_within_time_budget"]

#: Findings of one kind reported per run: a target repeating a key in every answer says so
#: once per route, not eighty times.
_PER_KIND = 5


@check(
    "every answer is strict JSON (RFC 8259: no repeated key, no NaN/Infinity, no byte-order "
    "mark, not nested deeper than 64), within --max-body, in the Content-Encoding it names"
)
def answers_are_strict_json(ctx: CheckContext) -> None:
    seen: dict[str, int] = {}
    for exchange in list(ctx.target.exchanges):
        for problem in exchange.problems:
            kind = problem.reason.split(" (")[0].split("'")[0]
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] > _PER_KIND:
                continue
            ctx.add(
                [
                    Finding(
                        "answers_are_strict_json",
                        exchange.request,
                        problem.pointer,
                        "strict JSON, read whole",
                        f"{exchange.status}: {problem.reason}",
                    )
                ]
            )


@check("every answer comes within --max-response-time seconds (off unless given)")
def answers_within_time_budget(ctx: CheckContext) -> None:
    budget = ctx.max_response_time
    if budget is None:
        return
    slow = [e for e in ctx.target.exchanges if e.status is not None and e.elapsed > budget]
    for exchange in slow[:_PER_KIND]:
        ctx.add(
            [
                Finding(
                    "answers_within_time_budget",
                    exchange.request,
                    "",
                    f"an answer within {budget:g}s (--max-response-time)",
                    f"{exchange.status} after {exchange.elapsed:.2f}s",
                )
            ]
        )
    if len(slow) > _PER_KIND:
        ctx.add(
            [
                Finding(
                    "answers_within_time_budget",
                    None,
                    "",
                    f"every answer within {budget:g}s",
                    f"{len(slow)} answers slower, {_PER_KIND} shown",
                )
            ]
        )
