"""The named checks, each a function named after the property of the contract it enforces.

Each takes the run's ``CheckContext``, sends what it needs through the target, and adds a
``Finding`` for every violation (never stopping at the first). ``CHECKS`` lists them in run
order; ``chatlabels check --list`` prints it.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from . import strategies
from .chat_ids import canonical_chat_id
from .context import CheckContext
from .findings import Finding
from .judge import BodyChecks, error_body_findings, label_list_findings, shown
from .schemas import json_pointer
from .target import Credentials, Exchange, path_segment

__all__ = ["CHECKS", "Check", "malformed_answer_findings"]


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


def _answer(exchange: Exchange) -> str:
    if exchange.status is None:
        return exchange.error or "no answer"
    body = shown(exchange.json) if exchange.is_json else f"non-JSON body {exchange.text[:60]!r}"
    return f"{exchange.status} {body}"


def _body_findings(ctx: CheckContext, only: str) -> None:
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


@check("every label a chat carries is in GET /v2/labels with the same name and color")
def labels_in_directory(ctx: CheckContext) -> None:
    directory = ctx.directory_answer()
    entries = _label_items(directory.json) if directory.status == 200 else []
    by_id = {label["id"]: label for _, label in entries if isinstance(label.get("id"), str)}
    for chat in ctx.chats:
        answer = ctx.chat_answer(chat)
        if answer.status != 200:
            continue
        for key, label in _label_items(answer.json):
            at = "/" + json_pointer([key])[1:]
            label_id = label.get("id")
            if not isinstance(label_id, str):
                continue
            entry = by_id.get(label_id)
            if entry is None:
                ctx.add(
                    [
                        Finding(
                            "labels_in_directory",
                            answer.request,
                            f"{at}/id",
                            f"label {label_id!r} listed by {directory.request}",
                            "absent from the directory",
                        )
                    ]
                )
                continue
            for name in ("name", "color"):
                if label.get(name) != entry.get(name):
                    ctx.add(
                        [
                            Finding(
                                "labels_in_directory",
                                answer.request,
                                f"{at}/{name}",
                                f"{shown(entry.get(name))} as in the directory",
                                shown(label.get(name)),
                            )
                        ]
                    )


def _label_items(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """(key, label) pairs of an array or a PHP-style object root; non-objects skipped."""
    pairs = enumerate(body) if isinstance(body, list) else []
    if isinstance(body, dict):
        pairs = body.items()  # type: ignore[assignment]
    return [(str(k), v) for k, v in pairs if isinstance(v, dict)]


@check("the same request twice in a row gets the same answer (no flapping)")
def answers_are_stable(ctx: CheckContext) -> None:
    for chat in ctx.chats:
        again = ctx.target.chat_labels(chat)
        ctx.add(_disagreement("answers_are_stable", ctx.chat_answer(chat), again, "the first time"))


@check("every spelling of one chat (raw @ or %40, @s.whatsapp.net, a bare number) gets one answer")
def chat_id_forms_agree(ctx: CheckContext) -> None:
    for chat in ctx.chats:
        first = ctx.chat_answer(chat)
        if first.status != 200:
            continue  # the body and auth checks report that answer
        for form, raw_at in equivalent_forms(chat):
            answer = ctx.target.chat_labels(form, raw_at=raw_at)
            ctx.add(_disagreement("chat_id_forms_agree", first, answer, f"for {chat}"))
        # Quirk: the provider's docs show chatId repeated in the query string.
        path = "/v2/labels/chats/" + path_segment(chat)
        repeated = ctx.target.get(path, params={"chatId": chat})
        ctx.add(_disagreement("chat_id_forms_agree", first, repeated, f"for {chat}"))


@check("the token in the access-token header works as in the query string")
def header_token_accepted(ctx: CheckContext) -> None:
    real = ctx.target.credentials
    for chat in ctx.chats:
        first = ctx.chat_answer(chat)
        answer = ctx.target.request(
            "GET",
            "/v2/labels/chats/" + path_segment(chat),
            headers={"access-token": real.access_token},
            credentials=Credentials(real.instance_id, None),
        )
        ctx.add(_disagreement("header_token_accepted", first, answer, "with the query token"))


@check("GET /v2/labels/{id} and GET /v2/labels/{id}/chats agree with the chat's labels")
def label_lookups_agree(ctx: CheckContext) -> None:
    """Where the target serves these calls (a 200), they must tell the same story as Get
    Chat Labels; an endpoint it does not serve is no finding here."""
    for chat in ctx.chats:
        answer = ctx.chat_answer(chat)
        if answer.status != 200:
            continue
        for key, label in _label_items(answer.json):
            label_id = label.get("id")
            if not isinstance(label_id, str) or not label_id.isdigit():
                continue
            single = ctx.target.get(f"/v2/labels/{label_id}")
            if single.status == 200:
                ctx.add(_lookup_findings(single, label, f"chat {chat} shows at /{key}"))
            ctx.add(_chats_with_label_findings(ctx, chat, label_id))


def _lookup_findings(single: Exchange, label: dict[str, Any], where: str) -> list[Finding]:
    """The looked-up label must have the name and color the chat's copy has (the rest of
    a label's shape is judged by the body checks)."""
    body = single.json if isinstance(single.json, dict) else {}
    return [
        Finding(
            "label_lookups_agree",
            single.request,
            f"/{field}",
            f"{shown(label.get(field))} as {where}",
            shown(body.get(field)),
        )
        for field in ("id", "name", "color")
        if body.get(field) != label.get(field)
    ]


_LOOKUP_PATH = re.compile(r"/v2/labels/[0-9]+(?:/chats)?")


def _unserved_lookup(exchange: Exchange) -> bool:
    """A label look-up the target does not serve at all: judged by no check (a stub may
    implement Get Chat Labels and the directory only)."""
    return exchange.status in {404, 405, 501} and bool(
        _LOOKUP_PATH.fullmatch(exchange.request.path)
    )


def _chats_with_label_findings(ctx: CheckContext, chat: str, label_id: str) -> list[Finding]:
    listing = ctx.target.get(f"/v2/labels/{label_id}/chats")
    if listing.status != 200:
        return []
    entries = listing.json if isinstance(listing.json, list) else None
    if entries is None or not all(isinstance(e, dict) and "id" in e for e in entries):
        expected = 'an array of {"id": <chat id>} objects'
        return [Finding("label_lookups_agree", listing.request, "", expected, shown(listing.json))]
    listed = {canonical_chat_id(str(e["id"])) for e in entries}
    if canonical_chat_id(chat) in listed:
        return []
    expected = f"{chat}, which carries label {label_id}"
    return [Finding("label_lookups_agree", listing.request, "", expected, shown(entries))]


def equivalent_forms(chat: str) -> list[tuple[str, bool]]:
    """Other spellings of ``chat`` that name the same chat (contract section 4), each with
    whether its ``@`` goes raw: ``chat_answer`` sends the canonical id with ``%40``."""
    canonical = canonical_chat_id(chat) or chat
    forms = [(canonical, True)]
    if canonical.endswith("@c.us"):
        number = canonical.removesuffix("@c.us")
        forms += [(f"{number}@s.whatsapp.net", False), (number, False)]
    return forms


def _disagreement(check: str, first: Exchange, second: Exchange, when: str) -> list[Finding]:
    """A finding when ``second`` differs from ``first`` in status or body, at the first
    differing pointer."""
    if first.status != second.status:
        expected = f"status {first.status} as {when}"
        return [Finding(check, second.request, "", expected, f"status {second.status}")]
    if first.json != second.json or first.is_json != second.is_json:
        pointer, before, after = _first_difference(first.json, second.json)
        return [Finding(check, second.request, pointer, f"{shown(before)} as {when}", shown(after))]
    return []


def _first_difference(a: Any, b: Any, path: tuple[Any, ...] = ()) -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), (*path, key))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, (*path, i))
    return json_pointer(path), a, b


@check("a wrong or missing token or instance_id gets a 4xx error body (401 for the token)")
def auth_is_enforced(ctx: CheckContext) -> None:
    """Each way a gateway is known to slip is tried on its own: a wrong, empty or missing
    query token, a wrong token in the header alone, a bad instance_id, and the directory
    without a token (it lists every label of the account)."""
    rng = random.Random(ctx.seed)
    real = ctx.target.credentials
    wrong_token = real.access_token
    while wrong_token == real.access_token:
        wrong_token = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    wrong_instance = real.instance_id
    while wrong_instance == real.instance_id:
        wrong_instance = str(rng.randrange(10**11, 10**12))
    chat_path = "/v2/labels/chats/" + path_segment(ctx.chats[0])
    no_token = Credentials(real.instance_id, None)
    # case -> (path, query credentials, headers)
    cases: dict[str, tuple[str, Credentials, dict[str, str]]] = {
        "a wrong token": (chat_path, Credentials(real.instance_id, wrong_token), {}),
        "an empty token": (chat_path, Credentials(real.instance_id, ""), {}),
        "no token": (chat_path, no_token, {}),
        "a wrong token in the access-token header": (
            chat_path,
            no_token,
            {"access-token": wrong_token},
        ),
        "a wrong instance_id": (chat_path, Credentials(wrong_instance, real.access_token), {}),
        "no instance_id": (chat_path, Credentials(None, real.access_token), {}),
        "no token on GET /v2/labels": ("/v2/labels", no_token, {}),
    }
    for case, (path, credentials, headers) in cases.items():
        answer = ctx.target.request("GET", path, headers=headers, credentials=credentials)
        sent = (real.access_token, credentials.access_token, *headers.values())
        secrets = [s for s in sent if s]
        findings = _rejection_findings(answer, "auth_is_enforced", f"a 4xx for {case}", secrets)
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


def _rejection_findings(
    answer: Exchange, check: str, expected: str, secrets: list[str]
) -> list[Finding]:
    """Findings unless ``answer`` is a 4xx JSON error body that echoes no secret."""
    if answer.status is None or not 400 <= answer.status < 500:
        return [Finding(check, answer.request, "", expected, _answer(answer))]
    if not answer.is_json:
        found = f"{answer.status} non-JSON body {answer.text[:60]!r}"
        return [Finding(check, answer.request, "", f"{expected}, as JSON", found)]
    findings = error_body_findings(
        answer.json, check=check, request=answer.request, status=answer.status
    )
    if any(secret in answer.text for secret in secrets):
        findings.append(
            Finding(check, answer.request, "", "an error body without the token", "the token")
        )
    return findings


def malformed_answer_findings(answer: Exchange, secrets: list[str] = ()) -> list[Finding]:  # type: ignore[assignment]
    return _rejection_findings(
        answer, "malformed_chat_ids_rejected", "a 4xx JSON error for a malformed chat id", secrets
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
    secrets = [ctx.target.access_token]
    ctx.search(
        strategies.invalid_chat_ids(),
        lambda chat_id: malformed_answer_findings(ctx.target.chat_labels(chat_id), secrets),
        fixed=MALFORMED_EXAMPLES,
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
                _answer(answer),
            )
        ]

    ctx.search(
        st.tuples(strategies.valid_chat_ids(), st.booleans()), judge, fixed=WELL_FORMED_EXAMPLES
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
