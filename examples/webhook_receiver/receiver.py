"""A webhook receiver that trusts only deliveries signed with the shared HMAC key.

WAHA (and the mock) sign the raw request body: ``X-Webhook-Hmac`` is the hex HMAC-SHA512
of the exact bytes received, ``X-Webhook-Hmac-Algorithm`` is ``sha512``. Verify before
parsing, over the raw bytes (re-serialised JSON would not match), in constant time.

    python examples/webhook_receiver/receiver.py --port 9000 --key my-secret

Standard library only; prints one line per verified event and answers 401 to the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["make_server", "verify_signature"]

MAX_BODY = 1024 * 1024


def verify_signature(body: bytes, headers: Mapping[str, str], key: str) -> bool:
    """True when ``X-Webhook-Hmac`` is the hex HMAC-SHA512 of ``body`` under ``key``."""
    if headers.get("X-Webhook-Hmac-Algorithm", "").lower() != "sha512":
        return False
    expected = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Webhook-Hmac", "").lower())


def make_server(
    port: int, key: str, on_event: Callable[[dict[str, Any]], None], *, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """An HTTP server that calls ``on_event(envelope)`` for every verified delivery."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            body = self.rfile.read(length)
            if not verify_signature(body, self.headers, key):
                self._answer(401)
                return
            on_event(json.loads(body))
            self._answer(200)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per event is printed by on_event instead

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Receive and verify chatlabels webhooks.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--key", required=True, help="the webhook's hmac.key")
    args = parser.parse_args(argv)

    def show(envelope: dict[str, Any]) -> None:
        print(json.dumps({"event": envelope["event"], "payload": envelope["payload"]}), flush=True)

    server = make_server(args.port, args.key, show)
    print(f"receiving on http://127.0.0.1:{server.server_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
