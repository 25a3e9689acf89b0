"""Small WAHA-dialect servers for the kit's tests: one answering as WAHA documents it
(``src/api/labels.controller.ts``, NestJS error bodies, the ``X-Api-Key`` 401 of
``src/core/auth/auth.middleware.ts``), the rest each breaking it in one way, or drifting as a
WAHA engine does (WEBJS's chat objects, NOWEB's ``@s.whatsapp.net`` ids). Independent of the
mock, so a bug in the mock cannot hide a bug in the kit.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import PALETTE

SESSION = "default"
API_KEY = "waha-K3y-Zq81xR"
CHAT = "5511999990000@c.us"

WAHA_BREAKAGES = (
    "none",
    "key-not-enforced",
    "403-for-wrong-key",
    "401-without-status-code",
    "wrong-color-hex",
    "chats-by-label-missing",
    "webjs-chat-objects",
    "noweb-jid-form",
)


def _label(label_id: str, name: str, color: int) -> dict[str, Any]:
    return {"id": label_id, "name": name, "color": color, "colorHex": PALETTE[color]}


def nest_error(status: int, message: str, error: str | None = None) -> Response:
    """NestJS's HttpException body: message, error (left out for 401/403), statusCode."""
    body: dict[str, Any] = {"message": message}
    if error:
        body["error"] = error
    body["statusCode"] = status
    response = jsonify(body)
    response.status_code = status
    return response


def broken_waha_app(breakage: str) -> Flask:
    """A WAHA stub serving ``/api/{session}/labels...`` as documented except for ``breakage``."""
    assert breakage in WAHA_BREAKAGES, breakage
    app = Flask(f"waha-{breakage}")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    directory = [_label("1", "New Customer", 0), _label("2", "VIP", 2)]

    @app.before_request
    def key_guard() -> Response | None:
        if breakage == "key-not-enforced" or request.headers.get("X-Api-Key") == API_KEY:
            return None
        if breakage == "403-for-wrong-key":
            return nest_error(403, "Forbidden")
        if breakage == "401-without-status-code":
            response = jsonify({"message": "Unauthorized"})
            response.status_code = 401
            return response
        return nest_error(401, "Unauthorized")

    @app.get("/api/<session>/labels")
    def labels(session: str) -> Response:
        return jsonify(directory)

    @app.get("/api/<session>/labels/chats/<path:chat_id>")
    def chat_labels(session: str, chat_id: str) -> Response:
        if canonical_chat_id(chat_id) != CHAT:
            return jsonify([])
        body = [dict(label) for label in directory]
        if breakage == "wrong-color-hex":
            body[1]["colorHex"] = PALETTE[3]
        return jsonify(body)

    @app.get("/api/<session>/labels/<label_id>/chats")
    def chats_of_label(session: str, label_id: str) -> Response:
        if label_id not in {"1", "2"} or breakage == "chats-by-label-missing":
            return jsonify([])
        if breakage == "webjs-chat-objects":  # whatsapp-web.js Chat, id a Wid object
            user, server = CHAT.split("@")
            wid = {"server": server, "user": user, "_serialized": CHAT}
            return jsonify([{"id": wid, "name": "Maria", "isGroup": False}])
        if breakage == "noweb-jid-form":  # Baileys' stored chat, id as its JID
            return jsonify([{"id": CHAT.replace("@c.us", "@s.whatsapp.net")}])
        return jsonify([{"id": CHAT}])

    @app.errorhandler(404)
    def not_found(_error: Any) -> Response:
        return nest_error(404, f"Cannot {request.method} {request.path}", "Not Found")

    return app
