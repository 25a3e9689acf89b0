"""What one webhook delivery looks like on the wire: the envelope, its headers, retry timing.

Pure functions, no threads: ``webhooks.py`` decides when to send; this module decides what
is sent, so a receiver's author can read the whole format in one place.

Choices follow WAHA's ``WebhookSender`` (devlikeapro/waha) where the contract is silent:
the body is compact JSON; the HMAC is over the raw body; ``X-Webhook-Timestamp`` is the
event's timestamp; one ``X-Webhook-Request-Id`` per delivery, resent unchanged on retries;
defaults 2 s, 15 retries, constant policy; a ``Retry-After`` in seconds lengthens the wait;
custom headers cannot override the ``Content-Type``, ``X-Webhook-*`` headers. Deviation: the
delays carry no random jitter (WAHA adds 0-20% to exponential ones) so that test runs
replay identically.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from chatlabels.mock.http.redaction import REDACTED, is_secret

__all__ = [
    "DEFAULT_RETRIES",
    "MAX_RETRY_DELAY_SECONDS",
    "WAHA_VERSION",
    "build_envelope",
    "encode_body",
    "redacted_headers",
    "request_headers",
    "retry_after_seconds",
    "retry_delay",
    "sign",
]

#: The WAHA release whose OpenAPI the mock follows; reported in ``environment.version``.
WAHA_VERSION = "2024.9.2"
DEFAULT_RETRIES = {"delaySeconds": 2, "attempts": 15, "policy": "constant"}
HMAC_ALGORITHM = "sha512"
USER_AGENT = f"WAHA/{WAHA_VERSION} (chatlabels mock)"
# The signature proves nothing without the key, and a test verifying it needs it: keep it.
_KEPT_HEADERS = {"x-webhook-hmac"}


def sign(key: str, body: bytes) -> str:
    """Hex HMAC-SHA512 of the raw body, what ``X-Webhook-Hmac`` carries."""
    return hmac.new(key.encode("utf-8"), body, hashlib.sha512).hexdigest()


#: The longest wait before a webhook retry, whatever the policy (the fixture schema bounds
#: ``delaySeconds`` by the same number).
MAX_RETRY_DELAY_SECONDS = 3600.0


def retry_delay(retries: dict[str, Any] | None, retry_number: int) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based) under a webhook's policy.

    constant: d; linear: d*n; exponential: d*2^(n-1), so the first retry always waits d;
    never more than ``MAX_RETRY_DELAY_SECONDS`` (an exponential policy passes any clock's
    range within a hundred retries, and a wait that long would stop the sender's thread).
    """
    config = {**DEFAULT_RETRIES, **(retries or {})}
    delay = float(config["delaySeconds"])
    if config["policy"] == "linear":
        delay *= retry_number
    elif config["policy"] == "exponential":
        delay *= 2.0 ** min(retry_number - 1, 64)
    return min(delay, MAX_RETRY_DELAY_SECONDS)


def retry_after_seconds(value: str | None) -> float:
    """A ``Retry-After`` given in seconds (the HTTP-date form is ignored), capped at 60 s."""
    try:
        return min(max(float(value or 0), 0.0), 60.0)
    except ValueError:
        return 0.0


def build_envelope(instance: dict[str, Any], event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """WAHA's webhook envelope for one event of one instance, keys in WAHA's order."""
    envelope: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex}",
        "timestamp": time.time_ns() // 1_000_000,
        "event": event,
        "session": instance["session"],
        # WAHA sends the session's metadata; fixtures have none, so an empty map.
        "metadata": {},
    }
    if instance.get("me"):  # WAHA omits `me` while the session has no account attached
        envelope["me"] = copy.deepcopy(instance["me"])
    envelope["payload"] = copy.deepcopy(payload)
    envelope["engine"] = instance["engine"]
    envelope["environment"] = {
        "version": WAHA_VERSION,
        "engine": instance["engine"],
        "tier": "CORE",
        "browser": None,
    }
    return envelope


def encode_body(envelope: dict[str, Any]) -> bytes:
    """The raw request body: compact UTF-8 JSON, the bytes the HMAC is computed over."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def request_headers(webhook: dict[str, Any], envelope: dict[str, Any], body: bytes) -> Any:
    """The headers of one delivery to ``webhook`` (a ``CaseInsensitiveDict``)."""
    from requests.structures import CaseInsensitiveDict

    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
        {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    )
    for header in webhook.get("customHeaders") or []:
        headers[header["name"]] = header["value"]
    headers["Content-Type"] = "application/json"
    headers["X-Webhook-Request-Id"] = uuid.uuid4().hex
    headers["X-Webhook-Timestamp"] = str(envelope["timestamp"])
    key = (webhook.get("hmac") or {}).get("key")
    if key:
        headers["X-Webhook-Hmac"] = sign(key, body)
        headers["X-Webhook-Hmac-Algorithm"] = HMAC_ALGORITHM
    return headers


def redacted_headers(headers: Any) -> dict[str, str]:
    """``headers`` as logged: secret values redacted, except the signature (see above)."""
    return {
        name: REDACTED if is_secret(name) and name.lower() not in _KEPT_HEADERS else value
        for name, value in headers.items()
    }
