"""Small provider-dialect servers for the kit's tests: one correct, the rest each breaking
the contract in exactly one way. Independent of the mock, so a bug in the mock cannot hide a
bug in the kit.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from typing import Any

from flask import Flask, Response, jsonify, request

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import PALETTE
from chatlabels.mock.serving.waitress_server import WaitressThread

INSTANCE_ID = "42"
TOKEN = "tok-S3cr3t-Xq9vZ7"  # long and distinctive: grep for it in every output
CHAT = "5511999990000@c.us"
OTHER_CHAT = "5511988887777@c.us"  # carries no label

BREAKAGES = (
    "none",
    "auth-not-enforced",
    "5xx-on-long-ids",
    "html-on-spaces",
    "object-root",
    "wrong-color-hex",
    "duplicate-label",
    "missing-from-directory",
    "renamed-in-directory",
    "flapping",
    "token-echoed",
    "text-content-type",
    "upper-case-hex",
    "extra-field",
    "rejects-lid",
    "5xx-on-seven",
    "bad-error-body",
    "403-for-wrong-token",
    "whatsapp-net-unknown",
    "header-token-ignored",
    "query-chat-id-refused",
    "instance-id-optional",
    "label-lookup-renamed",
    "chats-with-label-missing",
    "body-status-differs",
    "empty-token-accepted",
    "header-bypass",
    "directory-open",
    "prefix-token",
    "label-id-500",
    "label-404-while-listed",
    "chat-id-form-drift",
    "label-list-names-other-chat",
    # answers that are not strict JSON, or not delivered as promised
    "deep-nesting",
    "duplicate-keys",
    "nan-color",
    "bom-body",
    "lying-gzip",
    "gzip-bomb",
    "slow-directory",
    "hang-on-malformed",
    "token-echoed-late",
    "rate-limited-twice",
    "record-junk",
)


def _label(label_id: str, name: str, color: int) -> dict[str, Any]:
    return {"id": label_id, "name": name, "color": color, "colorHex": PALETTE[color]}


def broken_app(breakage: str, *, token: str = TOKEN) -> Flask:
    """A provider stub serving ``/v2/labels...`` correctly except for ``breakage``, for the
    instance ``INSTANCE_ID`` with ``token``."""
    assert breakage in BREAKAGES, breakage
    app = Flask(f"broken-{breakage}")
    counter = itertools.count()  # requests for CHAT so far (for "flapping")
    requests_seen = itertools.count()  # every request (for "rate-limited-twice")
    directory = [_label("1", "New Customer", 0), _label("2", "VIP", 2)]
    # Set when "hang-on-malformed" starts its first hang: a test waits for it, not a guess.
    app.extensions["hanging"] = hanging = threading.Event()
    if breakage == "record-junk":
        directory = [_label(str(i), f"Label {i}", i % 20) for i in range(1, 1001)]

    @app.before_request
    def throttle() -> Response | None:
        nth = next(requests_seen)
        if breakage == "rate-limited-twice" and nth < 2:
            response = error(429, "Too Many Requests", "rate_limited")
            # once in seconds, once as an HTTP date (RFC 9110 allows both)
            when = time.time() + 1
            response.headers["Retry-After"] = "1" if nth == 0 else formatdate(when, usegmt=True)
            return response
        if breakage == "slow-directory" and request.path == "/v2/labels":
            time.sleep(1.2)
        return None

    def error(status: int, message: str, code: str) -> Response:
        response = jsonify({"status": status, "message": message, "error": code})
        response.status_code = status
        return response

    def denied() -> Response | None:
        bypassed = {
            "auth-not-enforced": True,
            "empty-token-accepted": request.args.get("access_token") == "",
            "header-bypass": "access-token" in request.headers,
            "directory-open": request.path == "/v2/labels",
        }
        if bypassed.get(breakage):
            return None
        given = request.args.get("access_token")
        if breakage != "header-token-ignored":
            given = given or request.headers.get("access-token")
        instance_id = request.args.get("instance_id")
        if breakage == "instance-id-optional" and instance_id is None:
            instance_id = INSTANCE_ID
        if breakage == "prefix-token" and given is not None and len(given) >= 8:
            given = token if token.startswith(given[:8]) else given
        if instance_id == INSTANCE_ID and given == token:
            return None
        if breakage == "token-echoed":
            return error(401, f"token {given} is not valid", "unauthorized")
        if breakage == "token-echoed-late":  # the token straddles a finding's 120-character cut
            return error(401, f"{'x' * 66} token {given} is not valid", "unauthorized")
        if breakage == "bad-error-body":
            return jsonify({"detail": "unauthorized"}), 401  # type: ignore[return-value]
        if breakage == "403-for-wrong-token":
            return error(403, "Forbidden.", "forbidden")
        if breakage == "body-status-differs":
            response = error(400, "Invalid or missing access token.", "unauthorized")
            response.status_code = 401
            return response
        return error(401, "Invalid or missing access token.", "unauthorized")

    @app.get("/v2/labels")
    def labels() -> Response:
        if (refused := denied()) is not None:
            return refused
        if breakage == "renamed-in-directory":
            return jsonify([_label("1", "New Client", 0), directory[1]])
        if breakage == "missing-from-directory":
            return jsonify(directory[:1])
        return jsonify(directory)

    def bad_label_id(label_id: str) -> Response | None:
        if label_id.isascii() and label_id.isdigit() and len(label_id) <= 32:
            return None
        if breakage == "label-id-500":
            return Response("<html><body>Server Error</body></html>", 500, mimetype="text/html")
        return error(400, "labelId is not a label id", "invalid_parameter")

    @app.get("/v2/labels/<label_id>")
    def label(label_id: str) -> Response:
        if (refused := denied() or bad_label_id(label_id)) is not None:
            return refused
        if breakage == "label-404-while-listed" and label_id == "2":
            return error(404, "Label not found", "label_not_found")
        for entry in directory:
            if entry["id"] == label_id:
                renamed = breakage == "label-lookup-renamed"
                return jsonify({**entry, "name": "Renamed"} if renamed else entry)
        return error(404, "Label not found", "label_not_found")

    @app.get("/v2/labels/<label_id>/chats")
    def chats_with_label(label_id: str) -> Response:
        if (refused := denied() or bad_label_id(label_id)) is not None:
            return refused
        if breakage == "record-junk":
            return jsonify([{"id": f"junk chat {i} " + "z" * 40} for i in range(200)])
        if label_id not in {"1", "2"}:
            return error(404, "Label not found", "label_not_found")
        listed = CHAT
        if breakage == "chat-id-form-drift":
            listed = CHAT.replace("@c.us", "@s.whatsapp.net")
        if breakage == "label-list-names-other-chat" and label_id == "2":
            return jsonify([{"id": CHAT}, {"id": OTHER_CHAT}])
        return jsonify([] if breakage == "chats-with-label-missing" else [{"id": listed}])

    @app.get("/v2/labels/chats/", defaults={"chat_id": ""})
    @app.get("/v2/labels/chats/<path:chat_id>")
    def chat_labels(chat_id: str) -> Any:
        if (refused := denied()) is not None:
            return refused
        if breakage == "5xx-on-long-ids" and len(chat_id) > 40:
            return error(500, "Internal Server Error", "internal_error")
        if breakage == "5xx-on-seven" and "7" in chat_id and canonical_chat_id(chat_id) is None:
            return error(500, "Internal Server Error", "internal_error")
        if breakage == "hang-on-malformed" and canonical_chat_id(chat_id) is None:
            hanging.set()
            time.sleep(3)
        if breakage == "html-on-spaces" and " " in chat_id:
            return Response("<html><body>Bad Request</body></html>", 400, mimetype="text/html")
        if breakage == "query-chat-id-refused" and "chatId" in request.args:
            return error(400, "chatId given twice", "invalid_parameter")
        if canonical_chat_id(chat_id) is None or (
            breakage == "rejects-lid" and chat_id.endswith("@lid")
        ):
            return error(400, "chatId is not a chat id", "invalid_parameter")
        body: Any = []
        if canonical_chat_id(chat_id) == CHAT and not (
            breakage == "whatsapp-net-unknown" and chat_id.endswith("@s.whatsapp.net")
        ):
            nth = next(counter)
            body = _chat_body(breakage, [dict(label) for label in directory], nth)
        if breakage == "text-content-type":
            return Response(jsonify(body).get_data(), 200, mimetype="text/plain")
        if breakage in _RAW_BODIES and body:
            return _raw_body(breakage, jsonify(body).get_data())
        return jsonify(body)

    return app


def _chat_body(breakage: str, body: list[dict[str, Any]], nth: int) -> Any:
    """The labels of CHAT (both directory labels), broken as ``breakage`` says."""
    if breakage == "object-root":
        return {str(i): label for i, label in enumerate(body)}
    if breakage == "wrong-color-hex":
        body[1]["colorHex"] = PALETTE[3]
    elif breakage == "duplicate-label":
        body.append(body[0])
    elif breakage == "flapping" and nth == 1:  # the second answer differs from the first
        body[1]["name"] = "V.I.P."
    elif breakage == "upper-case-hex":
        body[0]["colorHex"] = body[0]["colorHex"].upper()
    elif breakage == "extra-field":
        body[1]["description"] = "VIP customers"
    return body


#: Breakages that send CHAT's labels as bytes no JSON encoder would write.
_RAW_BODIES = {"deep-nesting", "duplicate-keys", "nan-color", "bom-body", "lying-gzip", "gzip-bomb"}


def _raw_body(breakage: str, good: bytes) -> Response:
    headers = {}
    if breakage == "deep-nesting":
        data = b"[" * 100_000 + b"]" * 100_000
    elif breakage == "duplicate-keys":  # the repeated key's last value is the right one
        data = good.replace(b'"name":"New Customer"', b'"name":"Old","name":"New Customer"', 1)
    elif breakage == "nan-color":
        data = good.replace(b'"color":2', b'"color":NaN', 1)
    elif breakage == "bom-body":
        data = b"\xef\xbb\xbf" + good
    elif breakage == "lying-gzip":
        data, headers = good, {"Content-Encoding": "gzip"}
    else:  # gzip-bomb: 300 MB of spaces, gzipped to about 300 KB
        from tests.contract_tests.hostile_targets import gzip_bomb

        data, headers = gzip_bomb(), {"Content-Encoding": "gzip"}
    return Response(data, 200, mimetype="application/json", headers=headers)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` with waitress on a free port; yield its base URL."""
    server = WaitressThread(app, threads=4)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
