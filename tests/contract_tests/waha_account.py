"""A small WAHA server that keeps state, for the stateful run's tests: labels created,
updated and deleted, and chats' labels replaced, under ``/api/{session}/labels...`` as WAHA's
``src/api/labels.controller.ts`` answers (201 on create, ``{"result": true}`` on delete, an
empty 200 on a replace, NestJS error bodies, the same-name refusal on update, chats listed
as GOWS lists them). Independent of the mock, so a bug in the mock cannot hide one in the
kit; each breakage gets one thing wrong. It has no ``/__admin/``: the kit treats it as a live
account (``--allow-writes``).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, jsonify, request

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import PALETTE
from tests.contract_tests.broken_waha import API_KEY, CHAT, nest_error

WAHA_ACCOUNT_BREAKAGES = ("none", "delete-keeps-links", "replace-appends", "create-answers-200")


def waha_account_app(breakage: str = "none") -> Flask:
    """A WAHA account with labels 1 and 2 and ``CHAT`` carrying 2, wrong in ``breakage``."""
    assert breakage in WAHA_ACCOUNT_BREAKAGES, breakage
    app = Flask(f"waha-account-{breakage}")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    lock = threading.Lock()
    labels = {"1": ("New Customer", 0), "2": ("VIP", 2)}
    chats: dict[str, list[str]] = {CHAT: ["2"]}
    ghosts: dict[str, tuple[str, int]] = {}  # deleted labels still shown on chats

    def label(label_id: str) -> dict[str, Any]:
        name, color = labels.get(label_id) or ghosts[label_id]
        return {"id": label_id, "name": name, "color": color, "colorHex": PALETTE[color]}

    def label_input() -> tuple[str, int] | Response:
        body = request.get_json(silent=True) or {}
        name, color = body.get("name"), body.get("color")
        if not isinstance(name, str) or not isinstance(color, int):
            return nest_error(400, "name must be a string", "Bad Request")
        return name, color

    def taken(name: str) -> Response | None:
        for label_id, (other, _color) in labels.items():
            if other == name:  # the label being updated counts too: WAHA's bug
                return nest_error(422, f"Label with '{name}' already exists, id: {label_id}")
        return None

    @app.before_request
    def key_guard() -> Response | None:
        if request.headers.get("X-Api-Key") == API_KEY:
            return None
        return nest_error(401, "Unauthorized")

    @app.get("/api/<session>/labels")
    def directory(session: str) -> Response:
        with lock:
            return jsonify([label(i) for i in labels])

    @app.post("/api/<session>/labels")
    def create(session: str) -> Response | tuple[Response, int]:
        given = label_input()
        if isinstance(given, Response):
            return given
        with lock:
            if len(labels) >= 20:
                return nest_error(422, "Maximum 20 labels allowed", "Unprocessable Entity")
            if refused := taken(given[0]):
                return refused
            label_id = str(max(map(int, [*labels, *ghosts, "0"])) + 1)
            labels[label_id] = given
            return jsonify(label(label_id)), 200 if breakage == "create-answers-200" else 201

    @app.put("/api/<session>/labels/<label_id>")
    def update(session: str, label_id: str) -> Response:
        given = label_input()
        if isinstance(given, Response):
            return given
        with lock:
            if label_id not in labels:
                return nest_error(404, "Label not found", "Not Found")
            if refused := taken(given[0]):
                return refused
            labels[label_id] = given
            return jsonify(label(label_id))

    @app.delete("/api/<session>/labels/<label_id>")
    def delete(session: str, label_id: str) -> Response:
        with lock:
            if label_id not in labels:
                return nest_error(404, "Label not found", "Not Found")
            ghosts[label_id] = labels.pop(label_id)
            if breakage != "delete-keeps-links":
                for ids in chats.values():
                    if label_id in ids:
                        ids.remove(label_id)
            return jsonify({"result": True})

    @app.get("/api/<session>/labels/chats/<path:chat_id>")
    def chat_labels(session: str, chat_id: str) -> Response:
        with lock:
            return jsonify([label(i) for i in chats.get(canonical_chat_id(chat_id) or "", [])])

    @app.put("/api/<session>/labels/chats/<path:chat_id>")
    def replace(session: str, chat_id: str) -> Response:
        wanted = [item["id"] for item in (request.get_json(silent=True) or {})["labels"]]
        with lock:
            ids = chats.setdefault(canonical_chat_id(chat_id) or chat_id, [])
            kept = ids if breakage == "replace-appends" else []
            ids[:] = list(dict.fromkeys([*kept, *(i for i in wanted if i in labels)]))
        response = Response(status=200)
        del response.headers["Content-Type"]
        return response

    @app.get("/api/<session>/labels/<label_id>/chats")
    def chats_of_label(session: str, label_id: str) -> Response:
        with lock:
            return jsonify([{"id": chat} for chat, ids in chats.items() if label_id in ids])

    @app.errorhandler(404)
    def not_found(_error: Any) -> Response:
        return nest_error(404, f"Cannot {request.method} {request.path}", "Not Found")

    return app
