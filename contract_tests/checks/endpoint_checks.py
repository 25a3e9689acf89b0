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

import random
import re
import string

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
from chatlabels.kit.context import CheckContext
from chatlabels.kit.findings import Finding
from chatlabels.kit.judge import BodyChecks, error_body_findings, label_list_findings, shown
from chatlabels.kit.target import Exchange, QueryAuth, path_segment

__all__ = ["CHECKS", "RUN_ORDER", "Check", "malformed_answer_findings"]


def _answer(exchange: Exchange) -> str:
    if exchange.status is None:
        return exchange.error or "no answer"
    if exchange.is_json:
        body = shown(exchange.json)
    elif exchange.problems:
        body = f"unreadable body: {exchange.problems[0].reason}"
    else:
        body = f"non-JSON body {exchange.text[:60]!r}"
    return f"{exchange.status} {body}"


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
                    [Finding(only, answer.request, "", "200 with a JSON array", _answer(answer))]
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
        ctx.add([Finding(name, answer.request, "", "200 with a JSON array", _answer(answer))])
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


@check("a wrong or missing token or instance_id gets a 4xx error body (401 for the token)")
def auth_is_enforced(ctx: CheckContext) -> None:
    """Each way a gateway is known to slip is tried on its own: a wrong, empty or missing
    query token, a wrong token in the header alone, a bad instance_id, and the directory
    without a token (it lists every label of the account)."""
    rng = random.Random(ctx.seed)
    real = ctx.target.credentials
    wrong_token = ctx.target.access_token
    while wrong_token == ctx.target.access_token:
        wrong_token = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    wrong_instance = real.instance_id
    while wrong_instance == real.instance_id:
        wrong_instance = str(rng.randrange(10**11, 10**12))
    chat_path = "/v2/labels/chats/" + path_segment(ctx.chats[0])
    no_token = QueryAuth(real.instance_id, None)
    # case -> (path, query credentials, headers)
    cases: dict[str, tuple[str, QueryAuth, dict[str, str]]] = {
        "a wrong token": (chat_path, QueryAuth(real.instance_id, wrong_token), {}),
        "an empty token": (chat_path, QueryAuth(real.instance_id, ""), {}),
        "no token": (chat_path, no_token, {}),
        "a wrong token in the access-token header": (
            chat_path,
            no_token,
            {"access-token": wrong_token},
        ),
        "a wrong instance_id": (chat_path, QueryAuth(wrong_instance, real.access_token), {}),
        "no instance_id": (chat_path, QueryAuth(None, real.access_token), {}),
        "no token on GET /v2/labels": ("/v2/labels", no_token, {}),
    }
    # A gateway that compares a prefix, or ignores case, lets a near miss in.
    for case, token in near_misses(real.access_token or "").items():
        cases[case] = (chat_path, QueryAuth(real.instance_id, token), {})
    for case, (path, credentials, headers) in cases.items():
        answer = ctx.target.request("GET", path, headers=headers, credentials=credentials)
        findings = _rejection_findings(answer, "auth_is_enforced", f"a 4xx for {case}")
        # A missing instance_id is a malformed request (400) as much as a failed login.
        if not findings and answer.status != 401 and credentials.instance_id is not None:
            # The provider documents 401 "Unauthorized - Invalid or Missing Access Token".
            findings.append(
                Finding(
                    "auth_is_enforced",
                    answer.request,
                    "",
                    f"401 for {case}, as documented",
                    str(answer.status),
                    severity="warning" if ctx.profile == "lenient" else "error",
                    drift="auth-status",
                )
            )
        ctx.add(findings)


def near_misses(token: str) -> dict[str, str]:
    """Tokens one slip away from ``token``, by what each tries: a prefix (a gateway that
    compares the first 8 characters), the last character changed, the case swapped."""
    if len(token) < 2:
        return {}
    last = "0" if token[-1] != "0" else "1"
    misses = {
        "a prefix of the token": token[: min(8, len(token) - 1)],
        "the token with its last character changed": token[:-1] + last,
        "the token in another case": token.swapcase(),
    }
    return {case: miss for case, miss in misses.items() if miss != token}


def _rejection_findings(answer: Exchange, check: str, expected: str) -> list[Finding]:
    """Findings unless ``answer`` is a 4xx JSON error body that echoes no secret it was sent
    (``Exchange.echoed``: the target redacted it already, before any cut)."""
    if answer.status is None or not 400 <= answer.status < 500:
        return [Finding(check, answer.request, "", expected, _answer(answer))]
    if not answer.is_json:
        found = f"{answer.status} non-JSON body {answer.text[:60]!r}"
        return [Finding(check, answer.request, "", f"{expected}, as JSON", found)]
    findings = error_body_findings(
        answer.json, check=check, request=answer.request, status=answer.status
    )
    if answer.echoed:
        findings.append(
            Finding(check, answer.request, "", "an error body without the token", "the token")
        )
    return findings


def malformed_answer_findings(answer: Exchange) -> list[Finding]:
    return _rejection_findings(
        answer, "malformed_chat_ids_rejected", "a 4xx JSON error for a malformed chat id"
    )


#: One simple example per kind of malformed id, always tried before the generated ones.
MALFORMED_EXAMPLES = [
    "",
    "5511 999990000@c.us",
    "\u0665\u0665\u0661\u0661@c.us",  # Arabic-Indic digits
    "9" * 200 + "@c.us",
    "5511999990000@c.uss",
    "..",
    "5511%2F999990000@c.us",
]


@check("malformed chat ids get a 4xx JSON error, never a 5xx, a hang or HTML")
def malformed_chat_ids_rejected(ctx: CheckContext) -> None:
    ctx.search(
        strategies.invalid_chat_ids(),
        lambda chat_id: malformed_answer_findings(ctx.target.chat_labels(chat_id)),
        fixed=MALFORMED_EXAMPLES,
    )


#: Label ids that are not digit strings, one per way a route may mishandle them.
MALFORMED_LABEL_IDS = ["abc", "1.5", "-1", "1 2", "%2E%2E", "9" * 200, "\u0661"]


@check("malformed label ids get a 4xx JSON error on every route that takes one")
def malformed_label_ids_rejected(ctx: CheckContext) -> None:
    """``GET /v2/labels/{id}`` and ``GET /v2/labels/{id}/chats`` with ids that are not digit
    strings. A target that serves neither route (404/405/501 for a real label too) is not
    judged."""
    name = "malformed_label_ids_rejected"
    served = [
        rest
        for rest in ("", "/chats")
        if ctx.target.get(f"/v2/labels/{_probe_label(ctx)}{rest}").status not in {404, 405, 501}
    ]
    if not served:
        ctx.skip(name, "not served by the target: GET /v2/labels/{id} answers 404/405/501")
        return
    for label_id in MALFORMED_LABEL_IDS:
        segment = label_id if label_id.startswith("%") else path_segment(label_id)
        for rest in served:
            answer = ctx.target.get(f"/v2/labels/{segment}{rest}")
            ctx.add(_rejection_findings(answer, name, "a 4xx JSON error for a malformed label id"))


def _probe_label(ctx: CheckContext) -> str:
    """A label id the directory lists (``1`` when it lists none)."""
    body = ctx.directory_answer().json
    ids = (
        [item.get("id") for item in body if isinstance(item, dict)]
        if isinstance(body, list)
        else []
    )
    return next((i for i in ids if isinstance(i, str) and i.isdigit()), "1")


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
                _answer(answer),
            )
        ]

    ctx.search(
        st.tuples(strategies.valid_chat_ids(), st.booleans()), judge, fixed=WELL_FORMED_EXAMPLES
    )


_LOOKUP_PATH = re.compile(r"/v2/labels/[0-9]+(?:/chats)?")


def _unserved_lookup(exchange: Exchange) -> bool:
    """A label look-up the target does not serve at all: judged by no check (a stub may
    implement Get Chat Labels and the directory only)."""
    return exchange.status in {404, 405, 501} and bool(
        _LOOKUP_PATH.fullmatch(exchange.request.path)
    )


@check("every answer, success or error, has a JSON Content-Type")
def content_type_is_json(ctx: CheckContext) -> None:
    seen: set[str] = set()
    for exchange in list(ctx.target.exchanges):
        if exchange.status is None or _unserved_lookup(exchange):
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
