"""The yardstick: the smallest Flask app answering the same path with the same body,
served by the same server as ``chatlabels serve``, so the ratio isolates our own cost."""

from __future__ import annotations

import sys

from flask import Flask, Response
from waitress import serve

BODY = (
    '[{"id":"3","name":"VIP","color":2,"colorHex":"#ffd429"},'
    '{"id":"4","name":"Pending Payment","color":3,"colorHex":"#dfaef0"},'
    '{"id":"6","name":"Assigned to Alice","color":5,"colorHex":"#55ccb3"}]'
)

app = Flask(__name__)


@app.get("/v2/labels/chats/<path:chat_id>")
def chat_labels(chat_id: str) -> Response:
    return Response(BODY, mimetype="application/json")


if __name__ == "__main__":
    print("ready", flush=True)
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
