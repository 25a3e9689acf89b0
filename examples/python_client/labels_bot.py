"""The provider page's Get Chat Labels patterns as a small Python client using ``requests``.

Point it at the mock (``chatlabels serve``) or at the live API; nothing here knows which:

    python examples/python_client/labels_bot.py --base-url http://127.0.0.1:8080 \\
        --instance-id 123456789 5511977776666@c.us

The access token comes from ``--access-token`` or the CHATLABELS_ACCESS_TOKEN variable.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

__all__ = [
    "LabelsClient",
    "badges",
    "invoice_already_sent",
    "price_reply",
    "send_invoice_once",
    "vip_auto_reply",
]

WHOLESALE_ID = "5"  # the page's "Wholesale" label (ID 5)
RETAIL_ID = "2"  # the page's "Retail" label (ID 2)
INVOICE_SENT = "Invoice Sent"


class LabelsClient:
    """The provider's ``/v2/labels`` calls with ``instance_id`` and ``access_token``."""

    def __init__(
        self, base_url: str, instance_id: str, access_token: str, *, timeout: float = 10
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = {"instance_id": instance_id, "access_token": access_token}
        self.timeout = timeout
        self.http = requests.Session()

    def chat_labels(self, chat_id: str) -> list[dict[str, Any]]:
        """Get Chat Labels: every label on the chat, ``[]`` when it has none."""
        return _as_list(self._call("GET", f"/v2/labels/chats/{quote(chat_id, safe='')}"))

    def all_labels(self) -> list[dict[str, Any]]:
        """Get All Labels: the account's directory (at most 20)."""
        return _as_list(self._call("GET", "/v2/labels"))

    def link(self, label_id: str, chat_id: str) -> None:
        """Attach a label to a chat (idempotent)."""
        self._call("PUT", f"/v2/labels/{quote(label_id, safe='')}/chats/{quote(chat_id, safe='')}")

    def _call(self, method: str, path: str) -> Any:
        response = self.http.request(
            method, self.base_url + path, params=self.auth, timeout=self.timeout
        )
        if not response.ok:
            # The provider's error body: {"status", "message", "error"}.
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()


def _as_list(body: Any) -> list[dict[str, Any]]:
    # Quirk: the provider's docs show {"0": {...}} (PHP's json_encode of an array); the
    # prose promises an array. Accept both so the bot survives either.
    return list(body.values()) if isinstance(body, dict) else list(body)


# -- the page's patterns --------------------------------------------------------------------
def price_reply(client: LabelsClient, chat_id: str) -> str:
    """The label-aware bot: wholesale or retail pricing, or ask when the chat has neither."""
    ids = {label["id"] for label in client.chat_labels(chat_id)}
    if WHOLESALE_ID in ids:
        return "Here is our bulk price list."
    if RETAIL_ID in ids:
        return "Here is our standard price list."
    return "Are you buying for a business (wholesale) or for yourself (retail)?"


def vip_auto_reply(client: LabelsClient, chat_id: str) -> str:
    """Smart auto-reply: VIP chats are told an agent is on it."""
    if any(label["name"] == "VIP" for label in client.chat_labels(chat_id)):
        return "Hello VIP! We've prioritized your request for immediate agent review."
    return "Thanks for your message. We'll get back to you soon!"


def badges(client: LabelsClient, chat_id: str) -> list[dict[str, Any]]:
    """Label badge hydration: one badge per label, coloured by its ``colorHex``."""
    return [
        {"text": label["name"], "bgcolor": label["colorHex"], "isUrgent": label["color"] == 0}
        for label in client.chat_labels(chat_id)
    ]


def invoice_already_sent(client: LabelsClient, chat_id: str) -> bool:
    """The check-before-action rule: has someone already tagged the chat "Invoice Sent"?"""
    return any(label["name"] == INVOICE_SENT for label in client.chat_labels(chat_id))


def send_invoice_once(
    client: LabelsClient, chat_id: str, send_invoice: Callable[[str], None]
) -> bool:
    """Send the invoice unless the chat already carries "Invoice Sent"; then tag it.

    Returns True when the invoice was sent now. The account needs an "Invoice Sent" label.
    """
    if invoice_already_sent(client, chat_id):
        return False
    by_name = {label["name"]: label["id"] for label in client.all_labels()}
    if INVOICE_SENT not in by_name:
        raise LookupError(f"the account has no {INVOICE_SENT!r} label; create it first")
    send_invoice(chat_id)
    client.link(by_name[INVOICE_SENT], chat_id)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the page's patterns on some chats.")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--instance-id", required=True)
    parser.add_argument("--access-token", default=os.environ.get("CHATLABELS_ACCESS_TOKEN"))
    parser.add_argument("chats", nargs="+", metavar="CHAT")
    args = parser.parse_args(argv)
    if not args.access_token:
        parser.error("give --access-token or set CHATLABELS_ACCESS_TOKEN")
    client = LabelsClient(args.base_url, args.instance_id, args.access_token)
    for chat_id in args.chats:
        summary = {
            "chat": chat_id,
            "price_reply": price_reply(client, chat_id),
            "auto_reply": vip_auto_reply(client, chat_id),
            "badges": badges(client, chat_id),
            "invoice_already_sent": invoice_already_sent(client, chat_id),
        }
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
