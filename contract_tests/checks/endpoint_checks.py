"""The named checks, each a function named after the property of the contract it enforces.

Each takes the run's ``CheckContext``, sends what it needs through the target, and adds a
``Finding`` for every violation (never stopping at the first). ``CHECKS`` lists them in run
order; ``chatlabels check --list`` prints it.

This module holds the checks that judge one answer at a time (bodies, auth, chat ids,
Content-Type); the cross-request ones live in ``consistency_checks``. The run order is
stated once, in ``RUN_ORDER`` at the end, rather than left to the order in which modules
happen to be imported: ``content_type_is_json`` must run last because it inspects every
exchange made before it, and an explicit list keeps that visible and safe from a moved import.
"""

from __future__ import annotations

from hypothesis import strategies as st

from chatlabels.kit import strategies
from chatlabels.kit.checks.answer_checks import answers_are_strict_json, answers_within_time_budget
from chatlabels.kit.checks.consistency_checks import (
    answers_are_stable,
    chat_id_forms_agree,
    header_token_accepted,
    label_lookups_agree,
    labels_in_directory,
)
from chatlabels.kit.checks.registry import CHECKS, Check, check
from chatlabels.kit.checks.rejection_checks import (
    auth_is_enforced,
    malformed_chat_ids_rejected,
    malformed_label_ids_rejected,
)
from chatlabels.kit.context import CheckContext, describe_answer
from chatlabels.kit.findings import Finding
from chatlabels.kit.judge import BodyChecks, label_list_findings
from chatlabels.kit.target import Exchange

__all__ = ["CHECKS", "RUN_ORDER", "Check"]


def _body_findings(ctx: CheckContext, only: str) -> None:
    if only != "chat_labels_body_conforms" and not any(
        ctx.chat_answer(chat).status == 200 and _label_count(ctx.chat_answer(chat).json)
        for chat in ctx.chats
    ):
        ctx.skip(only, "nothing to judge: the chats given carry no label")
    for chat in ctx.chats:
        answer = ctx.chat_answer(chat)
        if answer.status != 200 or not answer.is_json:
            if only == "chat_labels_body_conforms":
                ctx.add(
                    [
                        Finding(
                            only,
                            answer.request,
                            "",
                            "200 with a JSON array",
                            describe_answer(answer),
                        )
                    ]
                )
            continue
        findings = label_list_findings(answer.json, profile=ctx.profile, request=answer.request)
        ctx.add([f for f in findings if f.check == only])


def _label_count(body: object) -> int:
    return len(body) if isinstance(body, list | dict) else 0


@check("the 200 body of Get Chat Labels is a JSON array matching chat-labels.schema.json")
def chat_labels_body_conforms(ctx: CheckContext) -> None:
    _body_findings(ctx, "chat_labels_body_conforms")


@check("every label's colorHex is PALETTE[color]")
def color_hex_matches_color(ctx: CheckContext) -> None:
    _body_findings(ctx, "color_hex_matches_color")


@check("no label id appears twice in one chat")
def label_ids_unique_in_chat(ctx: CheckContext) -> None:
    _body_findings(ctx, "label_ids_unique_in_chat")


@check("the 200 body of GET /v2/labels matches labels.schema.json")
def directory_body_conforms(ctx: CheckContext) -> None:
    answer = ctx.directory_answer()
    name = "directory_body_conforms"
    if answer.status != 200 or not answer.is_json:
        ctx.add(
            [Finding(name, answer.request, "", "200 with a JSON array", describe_answer(answer))]
        )
        return
    ctx.add(
        label_list_findings(
            answer.json,
            profile=ctx.profile,
            request=answer.request,
            checks=BodyChecks(name, name, name),
            schema="labels",
        )
    )


#: One example per form of the contract's section 4, tried before the generated ones.
WELL_FORMED_EXAMPLES = [
    ("5511999990000@c.us", False),
    ("5511999990000@c.us", True),
    ("5511999990000@s.whatsapp.net", False),
    ("120363025246125486@g.us", False),
    ("5511955554444-1612345678@g.us", False),
    ("203251182247977@lid", False),
    ("120363000000000001@newsletter", False),
    ("status@broadcast", False),
    ("5511999990000", False),
]


@check("well-formed chat ids of every form (raw @ or %40) get 200")
def well_formed_chat_ids_accepted(ctx: CheckContext) -> None:
    def judge(example: tuple[str, bool]) -> list[Finding]:
        chat_id, raw_at = example
        answer = ctx.target.chat_labels(chat_id, raw_at=raw_at)
        if answer.status == 200:
            return []
        return [
            Finding(
                "well_formed_chat_ids_accepted",
                answer.request,
                "",
                "200 for a well-formed chat id",
                describe_answer(answer),
            )
        ]

    ctx.search(
        st.tuples(strategies.valid_chat_ids(), st.booleans()), judge, fixed=WELL_FORMED_EXAMPLES
    )


def _unserved_lookup(ctx: CheckContext, exchange: Exchange) -> bool:
    """A label look-up the target does not serve at all: judged by no check (a stub may
    implement Get Chat Labels and the directory only)."""
    return exchange.status in {404, 405, 501} and ctx.target.dialect.is_label_lookup(
        exchange.request.path
    )


@check("every answer, success or error, has a JSON Content-Type")
def content_type_is_json(ctx: CheckContext) -> None:
    seen: set[str] = set()
    for exchange in list(ctx.target.exchanges):
        if exchange.status is None or _unserved_lookup(ctx, exchange):
            continue
        media_type = exchange.content_type.split(";")[0].strip().lower()
        if media_type == "application/json" or media_type.endswith("+json"):
            continue
        if media_type not in seen:
            seen.add(media_type)
            ctx.add(
                [
                    Finding(
                        "content_type_is_json",
                        exchange.request,
                        "",
                        "Content-Type: application/json",
                        f"{exchange.status} with Content-Type: {exchange.content_type or '(none)'}",
                    )
                ]
            )


#: The order ``CHECKS`` runs in: the body checks first, then the cross-request ones, then
#: the probes; ``content_type_is_json`` last, as it inspects every exchange made before it.
RUN_ORDER = (
    chat_labels_body_conforms,
    color_hex_matches_color,
    label_ids_unique_in_chat,
    directory_body_conforms,
    labels_in_directory,
    answers_are_stable,
    chat_id_forms_agree,
    header_token_accepted,
    label_lookups_agree,
    auth_is_enforced,
    malformed_chat_ids_rejected,
    malformed_label_ids_rejected,
    well_formed_chat_ids_accepted,
    answers_are_strict_json,
    answers_within_time_budget,
    content_type_is_json,
)

if sorted(function.__name__ for function in RUN_ORDER) != sorted(CHECKS):
    raise RuntimeError("checks.RUN_ORDER must name every registered check exactly once")
for _function in RUN_ORDER:  # popped and re-inserted, CHECKS ends up in run order
    CHECKS[_function.__name__] = CHECKS.pop(_function.__name__)
