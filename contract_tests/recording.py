"""Recording a live account's labels into a fixture file the mock serves (``chatlabels record``).

Reads ``GET /v2/labels`` (the directory), then ``GET /v2/labels/{id}/chats`` per label where
the API serves it (a 404/405/501 there means it does not, and is tolerated), then the labels
of each ``--chat-id`` and of each chat found with several labels (Get Chat Labels is
authoritative, and only it tells the order of a chat's labels). Requests go through
the kit's ``Target``, so they are throttled like ``check`` and nothing logged holds the token.
The file keeps the real instance id but never the token: it holds a placeholder
(``--placeholder``), so the file can be committed and the mock is called with that token.
The result is validated with the mock's own fixture loader before it is written. With
``--dialect waha`` the same calls go to a WAHA server's ``/api/{session}/labels...`` (key in
``X-Api-Key``) and the instance written carries that ``session``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.fixtures import FixtureError, parse_fixture
from chatlabels.contract.labels import MAX_LABELS
from chatlabels.kit.judge import shown
from chatlabels.kit.target import Exchange, Target

__all__ = ["RecordError", "record"]

_NOT_SERVED = {404, 405, 501}


class RecordError(Exception):
    """The account could not be recorded; ``str()`` is the one-line reason."""


def record(
    target: Target,
    chats: list[str],
    *,
    placeholder: str,
    instance_id: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The account behind ``target`` as a normalised fixture holding ``placeholder`` for its
    token, and notes for the user. A
    WAHA session is recorded as an instance with that ``session`` (and ``instance_id``,
    under which the mock serves it in the provider dialect too)."""
    instance_id = instance_id or target.instance_id
    notes: list[str] = []
    listed = _labels(target.directory())
    if len(listed) > MAX_LABELS:  # before reading a chat list per label: the fixture cannot hold it
        raise RecordError(
            f"GET /v2/labels lists {len(listed)} labels; a fixture holds at most {MAX_LABELS}, "
            "as WhatsApp Business does"
        )
    labels = {label["id"]: _fixture_label(label) for label in listed}
    linked: dict[str, list[str]] = {}
    for label_id in list(labels):
        exchange = target.label_chats(label_id)
        if exchange.status in _NOT_SERVED:
            notes.append(
                f"GET /v2/labels/{{id}}/chats answered {exchange.status}: chats are taken "
                "from --chat-id only"
            )
            break
        junk = []
        for chat in _body(exchange, "a list of chats"):
            chat_id = _chat_id(chat)
            if chat_id is None:
                junk.append(chat)
                continue
            linked.setdefault(chat_id, []).append(label_id)
        if junk:  # one note per label, however long its junk list: notes stay small
            example = shown(junk[0], 60)
            notes.append(
                f"skipped {len(junk)} entries listed under label {label_id} that are not chat "
                f"ids, e.g. {example}"
            )
    to_read = []
    for raw in chats:
        chat_id = canonical_chat_id(raw)
        if chat_id is None:
            raise RecordError(f"--chat-id {raw!r} is not a chat id")
        to_read.append(chat_id)
    # A chat's labels come in link order, which the per-label lists cannot tell: read every
    # chat that carries more than one.
    to_read += [chat for chat, ids in linked.items() if len(ids) > 1 and chat not in to_read]
    for chat_id in to_read:
        chat_labels = _labels(target.chat_labels(chat_id))
        for label in chat_labels:
            if label["id"] not in labels:
                notes.append(f"label {label['id']} of {chat_id} is not in GET /v2/labels; kept")
                labels[label["id"]] = _fixture_label(label)
        linked[chat_id] = [label["id"] for label in chat_labels]
    fixture = {
        "description": (
            f"Recorded from {target.base_url} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
            f"chatlabels record; the access token is replaced by {placeholder!r}."
        ),
        "instances": [
            {
                "id": instance_id,
                "token": placeholder,
                **({"session": target.dialect.session} if target.dialect.is_waha else {}),
                "labels": list(labels.values()),
                "chats": linked,
            }
        ],
    }
    try:
        return parse_fixture(fixture, source="recorded account"), notes
    except FixtureError as exc:
        raise RecordError(f"the recorded account is not a valid fixture:\n{exc}") from None


def _chat_id(entry: Any) -> str | None:
    """The canonical id of a chat-list entry: ``{"id": "..."}``, or WAHA WEBJS's Chat whose id
    is a Wid object (``{"_serialized": "..."}``)."""
    given = entry.get("id") if isinstance(entry, dict) else None
    if isinstance(given, dict):
        given = given.get("_serialized")
    return canonical_chat_id(given) if isinstance(given, str) else None


def _body(exchange: Exchange, what: str) -> list[Any]:
    where = f"{exchange.request.method} {exchange.request.path}"
    if exchange.status is None:
        raise RecordError(f"{where}: {exchange.error}")
    if exchange.status != 200:
        error = exchange.json.get("error") if isinstance(exchange.json, dict) else None
        raise RecordError(f"{where} answered {exchange.status}" + (f" {error}" if error else ""))
    body = exchange.json
    # Quirk: the provider's docs show arrays as {"0": {...}}; record either form.
    if isinstance(body, dict) and all(key.isdigit() for key in body):
        body = list(body.values())
    if not isinstance(body, list):
        why = f" ({exchange.problems[0].reason})" if exchange.problems else ""
        raise RecordError(f"{where} did not answer {what} in JSON{why}")
    return body


def _labels(exchange: Exchange) -> list[dict[str, Any]]:
    labels = _body(exchange, "a list of labels")
    for label in labels:
        if not (isinstance(label, dict) and isinstance(label.get("id"), str)):
            where = f"{exchange.request.method} {exchange.request.path}"
            raise RecordError(f"{where}: {label!r} is not a label")
    return labels


def _fixture_label(label: dict[str, Any]) -> dict[str, Any]:
    """A label as a fixture states it: the color index, else the hex (the loader maps it)."""
    kept = {"id": label["id"], "name": label.get("name")}
    if "color" in label:
        kept["color"] = label["color"]
    else:
        kept["colorHex"] = label.get("colorHex")
    return kept
