"""WAHA's dialect: ``/api/{session}/labels...`` over the same Store as the provider dialect.

Paths, bodies and answers follow WAHA's OpenAPI (2024.9.2 for the chat routes, newer
releases for create/update/delete), so a WAHA client works against the mock unchanged.
Errors are answered in WAHA's bodies by waha/errors.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from chatlabels.mock.http.label_input import (
    chat_id_in_path,
    json_object_body,
    label_fields,
)
from chatlabels.mock.http.parsed_request import current_request
from chatlabels.mock.state.errors import UnknownLabel
from chatlabels.mock.state.store import Store
from chatlabels.mock.waha.auth import require_api_key, working_session
from chatlabels.mock.waha.engines import ChatFacts, chats_by_label, unknown_label_chats
from chatlabels.mock.waha.errors import WahaError
from chatlabels.mock.waha.validation import label_body

__all__ = ["DELETED", "waha_blueprint"]

#: The answer to DELETE /api/{session}/labels/{labelId} (OpenAPI: "object").
DELETED = {"result": True}


def waha_blueprint(store: Store) -> Blueprint:
    """Routes of the WAHA dialect bound to ``store``, plus WAHA's global api-key guard."""
    bp = Blueprint("waha", __name__, url_prefix="/api/<session>/labels")

    @bp.before_app_request
    def guard_api_key() -> None:
        require_api_key(current_request())

    @bp.get("")
    def list_labels(session: str) -> Response:
        instance = working_session(current_request(), session)
        return jsonify(store.labels(instance.id))

    @bp.post("")
    def create_label(session: str) -> tuple[Response, int]:
        # labels.controller.ts l.43-66: the pipe (400), the colour (422), the 20-label limit
        # (422), the name (422), in that order. The pipe runs beside the session pipe and
        # fails within microtasks, so a bad body is a 400 even for a session not WORKING.
        body = label_body()  # the pipe rejects at once, before the session pipe answers
        instance = working_session(current_request(), session)
        name, color = label_fields(body)
        return jsonify(store.create_label(instance.id, name=name, color=color)), 201

    @bp.put("/<label_id>")
    def update_label(session: str, label_id: str) -> Response:
        # labels.controller.ts l.68-97: the pipe (400), then the label must exist (404), then
        # the colour (422) and the name (422). Any id that is not a label's is a 404.
        body = label_body()
        instance = working_session(current_request(), session)
        store.label(instance.id, label_id)
        name, color = label_fields(body)
        # Quirk: WAHA's name check also counts the label being updated (l.83-90), so an
        # update that keeps the label's own name is refused with its own id. Copied: a client
        # that does that fails against WAHA, so it must fail here too (README, "WAHA's rules").
        updated = store.update_label(
            instance.id, label_id, name=name, color=color, refuse_own_name=True
        )
        return jsonify(updated)

    @bp.delete("/<label_id>")
    def delete_label(session: str, label_id: str) -> Response:
        instance = working_session(current_request(), session)
        store.delete_label(instance.id, label_id)
        return jsonify(DELETED)

    @bp.get("/chats/<path:chat_id>")
    def get_chat_labels(session: str, **_route: str) -> Response:
        parsed = current_request()
        instance = working_session(parsed, session)
        return jsonify(store.chat_labels(instance.id, chat_id_in_path(parsed)))

    @bp.put("/chats/<path:chat_id>")
    def put_chat_labels(session: str, **_route: str) -> Response:
        parsed = current_request()
        instance = working_session(parsed, session)
        canonical = chat_id_in_path(parsed)
        store.replace_chat_labels(
            instance.id, canonical, label_refs(json_object_body(json_content_type_only=True))
        )
        # WAHA's handler returns nothing: NestJS answers 200 with an empty body.
        response = Response(status=200)
        del response.headers["Content-Type"]
        return response

    @bp.get("/<label_id>/chats")
    def chats_with_label(session: str, label_id: str) -> Response:
        instance = working_session(current_request(), session)
        try:
            chats = store.labelled_chats(instance.id, label_id)
        except UnknownLabel:
            return jsonify(unknown_label_chats(instance.engine))
        facts = [ChatFacts.of(chat_id, details) for chat_id, details in chats]
        return jsonify(chats_by_label(instance.engine, facts))

    return bp


def label_refs(body: dict[str, Any]) -> list[str]:
    """The ids of a ``SetLabelsRequest`` (``{"labels": [{"id": "1"}, ...]}``), in order.

    Every problem is reported at once in class-validator's words, as WAHA's ValidationPipe
    does: 400 with ``message`` a list of strings.
    """
    labels = body.get("labels")
    if not isinstance(labels, list):
        raise WahaError(400, ["labels must be an array"])
    problems: list[str] = []
    for index, item in enumerate(labels):
        if not isinstance(item, dict):
            problems.append(f"nested property labels.{index} must be either object or array")
        elif not isinstance(item.get("id"), str):
            problems.append(f"labels.{index}.id must be a string")
    if problems:
        raise WahaError(400, problems)
    return [item["id"] for item in labels]
