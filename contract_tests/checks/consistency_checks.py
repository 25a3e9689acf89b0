"""The cross-request checks: each compares two answers the target gave (the same request
twice, one chat under several spellings, the token in the header or the query, a chat's
labels against the directory and the label look-ups) and reports where they disagree.

They register in ``registry.CHECKS`` when this module is imported; ``checks`` imports it
and sets the run order.
"""

from __future__ import annotations

from typing import Any

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import json_pointer
from chatlabels.kit.checks.registry import check
from chatlabels.kit.context import CheckContext
from chatlabels.kit.findings import Finding
from chatlabels.kit.judge import shown
from chatlabels.kit.target import Credentials, Exchange, path_segment

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
