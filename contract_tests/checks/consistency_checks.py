"""The cross-request checks: each compares two answers the target gave (the same request
twice, one chat under several spellings, the token in the header or the query, a chat's
labels against the directory and the label look-ups) and reports where they disagree.

They register in ``registry.CHECKS`` when this module is imported; ``checks`` imports it
and sets the run order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import json_pointer
from chatlabels.kit.checks.registry import check
from chatlabels.kit.context import CheckContext
from chatlabels.kit.findings import Finding, Severity
from chatlabels.kit.judge import shown
from chatlabels.kit.target import Exchange, QueryAuth, path_segment

__all__ = [
    "answers_are_stable",
    "chat_id_forms_agree",
    "equivalent_forms",
    "header_token_accepted",
    "label_lookups_agree",
    "labels_in_directory",
]


@check("every label a chat carries is in GET /v2/labels with the same name and color")
def labels_in_directory(ctx: CheckContext) -> None:
    directory = ctx.directory_answer()
    if not any(
        _label_items(ctx.chat_answer(chat).json)
        for chat in ctx.chats
        if ctx.chat_answer(chat).status == 200
    ):
        ctx.skip("labels_in_directory", "nothing to judge: the chats given carry no label")
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
    pairs: Iterable[tuple[Any, Any]] = enumerate(body) if isinstance(body, list) else []
    if isinstance(body, dict):
        pairs = body.items()
    return [(str(k), v) for k, v in pairs if isinstance(v, dict)]


@check("the same request twice in a row gets the same answer (no flapping)")
def answers_are_stable(ctx: CheckContext) -> None:
    for chat in ctx.chats:
        again = ctx.target.chat_labels(chat)
        ctx.add(_disagreement("answers_are_stable", ctx.chat_answer(chat), again, "the first time"))


@check("every spelling of one chat (raw @ or %40, @s.whatsapp.net, a bare number) gets one answer")
def chat_id_forms_agree(ctx: CheckContext) -> None:
    if not any(ctx.chat_answer(chat).status == 200 for chat in ctx.chats):
        ctx.skip("chat_id_forms_agree", "nothing to judge: no chat given answered 200")
    for chat in ctx.chats:
        first = ctx.chat_answer(chat)
        if first.status != 200:
            continue  # the body and auth checks report that answer
        for form, raw_at in equivalent_forms(chat):
            answer = ctx.target.chat_labels(form, raw_at=raw_at)
            ctx.add(_disagreement("chat_id_forms_agree", first, answer, f"for {chat}"))
        if ctx.target.dialect.is_waha:
            continue
        # Quirk: the provider's docs show chatId repeated in the query string.
        path = ctx.target.dialect.chat_path(path_segment(chat))
        repeated = ctx.target.get(path, params={"chatId": chat})
        ctx.add(_disagreement("chat_id_forms_agree", first, repeated, f"for {chat}"))


@check("the token in the access-token header works as in the query string")
def header_token_accepted(ctx: CheckContext) -> None:
    if ctx.target.dialect.is_waha:
        ctx.skip("header_token_accepted", "not in the WAHA dialect (its key is X-Api-Key)")
        return
    real = ctx.target.credentials
    for chat in ctx.chats:
        first = ctx.chat_answer(chat)
        answer = ctx.target.request(
            "GET",
            ctx.target.dialect.chat_path(path_segment(chat)),
            headers={"access-token": ctx.target.access_token},
            credentials=QueryAuth(real.instance_id, None),
        )
        ctx.add(_disagreement("header_token_accepted", first, answer, "with the query token"))


@check(
    "GET /v2/labels/{id} answers for every label the directory lists, with the chat's name "
    "and color; GET /v2/labels/{id}/chats lists every chat carrying the label, and only those"
)
def label_lookups_agree(ctx: CheckContext) -> None:
    """Where the target serves these calls, they must tell the same story as Get Chat Labels
    and the directory, read both ways: from a chat to its labels' chat lists, and from a
    label's chat list back to each chat's labels. A target that serves neither look-up
    (404/405/501 for every label) is skipped as "not served"."""
    name = "label_lookups_agree"
    directory = ctx.directory_answer()
    listed = [label for _, label in _label_items(directory.json)] if directory.status == 200 else []
    carried: dict[str, tuple[str, str, dict[str, Any]]] = {}  # label id -> (chat, key, label)
    for chat in ctx.chats:
        answer = ctx.chat_answer(chat)
        for key, label in _label_items(answer.json) if answer.status == 200 else []:
            carried.setdefault(str(label.get("id")), (chat, key, label))
    ids = [str(label.get("id")) for label in listed] + list(carried)
    ids = [i for i in dict.fromkeys(ids) if i.isdigit()][:_MAX_LOOKUPS]
    if not ids:
        ctx.skip(name, "nothing to judge: no label in the directory nor on the chats given")
        return
    singles = {
        label_id: single
        for label_id in ids
        if (single := ctx.target.label(label_id)) is not None  # WAHA has no such call
    }
    listings = {label_id: ctx.target.label_chats(label_id) for label_id in ids}
    lookups = [*singles.values(), *listings.values()]
    if all(answer.status in _NOT_SERVED for answer in lookups):
        ctx.skip(name, "not served by the target: GET /v2/labels/{id} answers 404/405/501")
        return
    for label_id, single in singles.items():
        if single.status == 200 and label_id in carried:
            chat, key, label = carried[label_id]
            ctx.add(_lookup_findings(single, label, f"chat {chat} shows at /{key}"))
        elif single.status == 404 and any(a.status == 200 for a in singles.values()):
            expected = f"200: label {label_id} is listed by {directory.request}"
            ctx.add([Finding(name, single.request, "", expected, "404")])
    read_back: set[str] = set()
    for label_id, listing in listings.items():
        if listing.status == 200:
            ctx.add(_listing_findings(ctx, label_id, listing, carried.get(label_id), read_back))


#: Labels looked up per run (each costs two requests).
_MAX_LOOKUPS = 20
#: Chats named by the labels' lists and read back, besides the chats given (a request each).
_MAX_READ_BACK = 5
_NOT_SERVED = {404, 405, 501}


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


def _listing_findings(
    ctx: CheckContext,
    label_id: str,
    listing: Exchange,
    carrier: tuple[str, str, dict[str, Any]] | None,
    read_back: set[str],
) -> list[Finding]:
    """``GET /v2/labels/{id}/chats``: well-formed, person chats in their canonical ``@c.us``
    form (another form is a named drift), naming the chat that carries the label, and each
    chat it names carrying the label (read back for the chats given and a few more in all:
    ``read_back`` holds those read so far)."""
    name = "label_lookups_agree"
    entries = listing.json if isinstance(listing.json, list) else None
    if entries is None or not all(isinstance(e, dict) and "id" in e for e in entries):
        expected = 'an array of {"id": <chat id>} objects'
        return [Finding(name, listing.request, "", expected, shown(listing.json))]
    findings: list[Finding] = []
    listed: dict[str, str] = {}
    tolerated: Severity = "warning" if ctx.profile == "lenient" else "error"
    for index, entry in enumerate(entries):
        given = entry["id"]
        if isinstance(given, dict) and isinstance(given.get("_serialized"), str):
            # Quirk: WAHA's WEBJS engine lists whatsapp-web.js Chat objects, id a Wid object.
            findings.append(
                Finding(
                    name,
                    listing.request,
                    f"/{index}/id",
                    'a chat id string, as {"id": "<chat id>"}',
                    shown(given, 80),
                    severity=tolerated,
                    drift="engine-chat-object",
                )
            )
            given = given["_serialized"]
        given = str(given)
        canonical = canonical_chat_id(given)
        if canonical is None:
            findings.append(
                Finding(name, listing.request, f"/{index}/id", "a chat id", shown(given))
            )
            continue
        listed.setdefault(canonical, f"/{index}/id")
        if canonical != given:
            findings.append(
                Finding(
                    name,
                    listing.request,
                    f"/{index}/id",
                    f"the canonical form {canonical}",
                    shown(given),
                    severity=tolerated,
                    drift="chat-id-form",
                )
            )
    if carrier is not None and canonical_chat_id(carrier[0]) not in listed:
        expected = f"{carrier[0]}, which carries label {label_id}"
        findings.append(Finding(name, listing.request, "", expected, shown(entries)))
    for chat, pointer in listed.items():
        if chat not in ctx.chats and len(read_back) >= _MAX_READ_BACK:
            continue
        read_back.add(chat)
        answer = ctx.chat_answer(chat)
        ids = {str(label.get("id")) for _, label in _label_items(answer.json)}
        if answer.status == 200 and answer.is_json and label_id not in ids:
            expected = f"label {label_id}, as {listing.request} lists this chat at {pointer}"
            findings.append(Finding(name, answer.request, "", expected, shown(answer.json)))
    return findings


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
