"""The checks that send what the target must refuse: wrong credentials (and near misses of
the right ones), malformed chat ids, malformed label ids. Each refusal must be a 4xx with the
dialect's JSON error body (``schemas/error.schema.json``, WAHA's
``schemas/waha-error.schema.json``) that repeats the HTTP status and echoes no secret.

WAHA hands chat and label ids to its engine unchecked (``src/api/labels.controller.ts``: no
pipe on those routes), so what it answers to a malformed one is the engine's business, not a
documented contract: the two malformed-id checks skip a WAHA target, saying so.
"""

from __future__ import annotations

import random
import string

from chatlabels.kit import strategies
from chatlabels.kit.checks.registry import check
from chatlabels.kit.context import CheckContext, describe_answer
from chatlabels.kit.findings import Finding
from chatlabels.kit.judge import error_body_findings
from chatlabels.kit.target import Exchange, QueryAuth, path_segment

__all__ = [
    "MALFORMED_EXAMPLES",
    "MALFORMED_LABEL_IDS",
    "auth_is_enforced",
    "malformed_answer_findings",
    "malformed_chat_ids_rejected",
    "malformed_label_ids_rejected",
    "near_misses",
    "rejection_findings",
]

_NOT_IN_WAHA = (
    "not in WAHA's contract: WAHA passes ids to the engine unchecked (src/api/labels.controller.ts)"
)


@check("a wrong or missing token or instance_id gets a 4xx error body (401 for the token)")
def auth_is_enforced(ctx: CheckContext) -> None:
    """Each way a gateway is known to slip is tried on its own: a wrong, empty or missing
    token, a wrong token in the header alone, a bad instance_id, the directory without a
    token (it lists every label of the account), and near misses of the real token. On WAHA
    the key goes in ``X-Api-Key``; the documented answer is 401 ``Unauthorized``."""
    rng = random.Random(ctx.seed)
    real = ctx.target.credentials
    wrong = ""
    while not wrong or wrong == real.access_token:
        wrong = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    dialect = ctx.target.dialect
    chat_path = dialect.chat_path(path_segment(ctx.chats[0]))
    # case -> (path, query credentials, headers)
    cases: dict[str, tuple[str, QueryAuth, dict[str, str]]]
    if dialect.is_waha:
        none = QueryAuth(None, None)
        cases = {
            "a wrong key": (chat_path, none, {"X-Api-Key": wrong}),
            "an empty key": (chat_path, none, {"X-Api-Key": ""}),
            "no key": (chat_path, none, {}),
            f"no key on GET {dialect.prefix}": (dialect.prefix, none, {}),
        }
        for case, key in near_misses(real.access_token or "").items():
            cases[case] = (chat_path, none, {"X-Api-Key": key})
    else:
        wrong_instance = real.instance_id
        while wrong_instance == real.instance_id:
            wrong_instance = str(rng.randrange(10**11, 10**12))
        no_token = QueryAuth(real.instance_id, None)
        cases = {
            "a wrong token": (chat_path, QueryAuth(real.instance_id, wrong), {}),
            "an empty token": (chat_path, QueryAuth(real.instance_id, ""), {}),
            "no token": (chat_path, no_token, {}),
            "a wrong token in the access-token header": (
                chat_path,
                no_token,
                {"access-token": wrong},
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
        findings = rejection_findings(ctx, answer, "auth_is_enforced", f"a 4xx for {case}")
        # A missing instance_id is a malformed request (400) as much as a failed login.
        if not findings and answer.status != 401 and "instance_id" not in case:
            # The provider documents 401 "Unauthorized - Invalid or Missing Access Token";
            # WAHA's AuthMiddleware throws UnauthorizedException (401).
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


def rejection_findings(
    ctx: CheckContext, answer: Exchange, check: str, expected: str
) -> list[Finding]:
    """Findings unless ``answer`` is a 4xx JSON error body of the target's dialect that
    echoes no secret it was sent (``Exchange.echoed``: redacted on receipt, before any cut)."""
    if answer.status is None or not 400 <= answer.status < 500:
        return [Finding(check, answer.request, "", expected, describe_answer(answer))]
    if not answer.is_json:
        found = f"{answer.status} non-JSON body {answer.text[:60]!r}"
        return [Finding(check, answer.request, "", f"{expected}, as JSON", found)]
    dialect = ctx.target.dialect
    findings = error_body_findings(
        answer.json,
        check=check,
        request=answer.request,
        status=answer.status,
        schema=dialect.error_schema,
        status_field=dialect.status_field,
    )
    if answer.echoed:
        findings.append(
            Finding(check, answer.request, "", "an error body without the token", "the token")
        )
    return findings


def malformed_answer_findings(ctx: CheckContext, answer: Exchange) -> list[Finding]:
    return rejection_findings(
        ctx, answer, "malformed_chat_ids_rejected", "a 4xx JSON error for a malformed chat id"
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
    if ctx.target.dialect.is_waha:
        ctx.skip("malformed_chat_ids_rejected", _NOT_IN_WAHA)
        return
    ctx.search(
        strategies.invalid_chat_ids(),
        lambda chat_id: malformed_answer_findings(ctx, ctx.target.chat_labels(chat_id)),
        fixed=MALFORMED_EXAMPLES,
    )


#: Label ids that are not digit strings, one per way a route may mishandle them.
MALFORMED_LABEL_IDS = ["abc", "1.5", "-1", "1 2", "..", "9" * 200, "\u0661"]


@check("malformed label ids get a 4xx JSON error on every route that takes one")
def malformed_label_ids_rejected(ctx: CheckContext) -> None:
    """``GET /v2/labels/{id}`` and ``GET /v2/labels/{id}/chats`` with ids that are not digit
    strings. A target that serves neither route (404/405/501 for a real label too) is not
    judged."""
    name = "malformed_label_ids_rejected"
    if ctx.target.dialect.is_waha:
        ctx.skip(name, _NOT_IN_WAHA)
        return
    probe = _probe_label(ctx)
    calls = [ctx.target.label, ctx.target.label_chats]
    served = [call for call in calls if _status(call(probe)) not in {None, 404, 405, 501}]
    if not served:
        ctx.skip(name, "not served by the target: GET /v2/labels/{id} answers 404/405/501")
        return
    for label_id in MALFORMED_LABEL_IDS:
        for call in served:
            answer = call(label_id)
            assert answer is not None  # served, so the dialect has the call
            expected = "a 4xx JSON error for a malformed label id"
            ctx.add(rejection_findings(ctx, answer, name, expected))


def _status(answer: Exchange | None) -> int | None:
    return None if answer is None else answer.status


def _probe_label(ctx: CheckContext) -> str:
    """A label id the directory lists (``1`` when it lists none)."""
    body = ctx.directory_answer().json
    items = body if isinstance(body, list) else []
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    return next((i for i in ids if isinstance(i, str) and i.isdigit()), "1")
