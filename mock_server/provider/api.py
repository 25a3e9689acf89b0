"""The provider's dialect: ``/v2/labels...`` with instance_id and access_token.

Views are thin: authenticate, parse, call the store, answer. Every failure is raised on the
way (an ApiError, or the store's domain error) and answered by provider/errors.py. Who is
calling and which chat is meant come from the request parsed once (``current_request()``),
not from the route's arguments.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify

from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.label_input import (
    chat_id_in_path,
    chat_id_param,
    json_object_body,
    label_fields,
    label_id_param,
)
from chatlabels.mock.http.parsed_request import current_request
from chatlabels.mock.provider.auth import provider_instance, single_value
from chatlabels.mock.state.store import Store

__all__ = ["OPERATION_COMPLETED", "provider_blueprint"]

#: The provider's answer to link/unlink and delete (contract section 2).
OPERATION_COMPLETED = {"success": True, "message": "Operation completed successfully"}


def provider_blueprint(store: Store) -> Blueprint:
    """Routes of the provider dialect bound to ``store``."""
    bp = Blueprint("provider", __name__, url_prefix="/v2/labels")

    @bp.get("/chats/<path:chat_id>")
    def get_chat_labels(**_route: str) -> Response:
        parsed = current_request()
        instance = provider_instance(parsed)
        canonical = chat_id_in_path(parsed)
        # Quirk: the provider's docs repeat chatId in the query string; it must agree.
        repeated = single_value(parsed.chat_param)
        if repeated is not None and chat_id_param(repeated, where="query chatId") != canonical:
            raise ApiError(
                400,
                "invalid_parameter",
                "chatId in the path and chatId in the query name different chats; send one.",
            )
        return jsonify(store.chat_labels(instance.id, canonical))

    @bp.get("/chats/")
    def get_chat_labels_without_chat() -> Response:
        provider_instance(current_request())
        raise ApiError(400, "invalid_parameter", "chatId is empty; put the chat id after /chats/.")

    @bp.get("")
    def list_labels() -> Response:
        instance = provider_instance(current_request())
        return jsonify(store.labels(instance.id))

    @bp.post("")
    def create_label() -> tuple[Response, int]:
        instance = provider_instance(current_request())
        name, color = label_fields(json_object_body())
        return jsonify(store.create_label(instance.id, name=name, color=color)), 201

    @bp.get("/<label_id>")
    def get_label(label_id: str) -> Response:
        instance = provider_instance(current_request())
        return jsonify(store.label(instance.id, label_id_param(label_id)))

    @bp.put("/<label_id>")
    def update_label(label_id: str) -> Response:
        instance = provider_instance(current_request())
        label_id = label_id_param(label_id)
        store.label(instance.id, label_id)  # existence before the body, as WAHA checks
        name, color = label_fields(json_object_body())
        return jsonify(store.update_label(instance.id, label_id, name=name, color=color))

    @bp.delete("/<label_id>")
    def delete_label(label_id: str) -> Response:
        instance = provider_instance(current_request())
        store.delete_label(instance.id, label_id_param(label_id))
        return jsonify(OPERATION_COMPLETED)

    @bp.get("/<label_id>/chats")
    def chats_with_label(label_id: str) -> Response:
        instance = provider_instance(current_request())
        return jsonify(store.chats_with_label(instance.id, label_id_param(label_id)))

    @bp.put("/<label_id>/chats/<path:chat_id>")
    def link(label_id: str, **_route: str) -> Response:
        return _change_link(store.link, label_id)

    @bp.delete("/<label_id>/chats/<path:chat_id>")
    def unlink(label_id: str, **_route: str) -> Response:
        return _change_link(store.unlink, label_id)

    def _change_link(change: Callable[[str, str, str], bool], label_id: str) -> Response:
        parsed = current_request()
        instance = provider_instance(parsed)
        change(instance.id, label_id_param(label_id), chat_id_in_path(parsed))
        return jsonify(OPERATION_COMPLETED)

    return bp
