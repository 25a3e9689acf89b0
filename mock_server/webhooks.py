"""WAHA-style webhooks: every real label change is POSTed to the instance's webhook URLs.

The store calls ``on_store_event`` while holding its lock, so that method only puts the
event in an inbox. A router thread turns each event into one delivery per matching webhook
and appends it to that webhook's lane; each lane is drained by its own short-lived worker
thread, so deliveries to one URL keep the order of the changes while a slow or hanging
receiver holds up nobody else (not the API, not the other webhooks).

Choices follow WAHA's ``WebhookSender`` (devlikeapro/waha) where the contract is silent:
the body is compact JSON; the HMAC is over the raw body; ``X-Webhook-Timestamp`` is the
event's timestamp; one ``X-Webhook-Request-Id`` per delivery, resent unchanged on retries;
any answer but 2xx, and any connection error or timeout, is retried; ``retries.attempts`` counts
retries (so ``attempts + 1`` tries); defaults 2 s, 15 retries, constant policy; a
``Retry-After`` in seconds lengthens the wait; custom headers cannot override the
``Content-Type``, ``X-Webhook-*`` headers. Deviation: the delays carry no random jitter
(WAHA adds 0-20% to exponential ones) so that test runs replay identically.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

from .redaction import REDACTED, is_secret

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_DELIVERIES",
    "WAHA_VERSION",
    "WebhookDispatcher",
    "build_envelope",
    "retry_delay",
    "sign",
]

#: The WAHA release whose OpenAPI the mock follows; reported in ``environment.version``.
WAHA_VERSION = "2024.9.2"
DEFAULT_TIMEOUT_SECONDS = 10.0
#: Deliveries kept in the log; older ones are dropped so a long run cannot exhaust memory.
MAX_DELIVERIES = 1000
DEFAULT_RETRIES = {"delaySeconds": 2, "attempts": 15, "policy": "constant"}
HMAC_ALGORITHM = "sha512"
USER_AGENT = f"WAHA/{WAHA_VERSION} (chatlabels mock)"
_FINISHED = ("delivered", "failed")
# The signature proves nothing without the key, and a test verifying it needs it: keep it.
_KEPT_HEADERS = {"x-webhook-hmac"}


def sign(key: str, body: bytes) -> str:
    """Hex HMAC-SHA512 of the raw body, what ``X-Webhook-Hmac`` carries."""
    return hmac.new(key.encode("utf-8"), body, hashlib.sha512).hexdigest()


def retry_delay(retries: dict[str, Any] | None, retry_number: int) -> float:
    """Seconds to wait before retry ``retry_number`` (1-based) under a webhook's policy.

    constant: d; linear: d*n; exponential: d*2^(n-1), so the first retry always waits d.
    """
    config = {**DEFAULT_RETRIES, **(retries or {})}
    delay = float(config["delaySeconds"])
    if config["policy"] == "linear":
        return delay * retry_number
    if config["policy"] == "exponential":
        return delay * 2 ** (retry_number - 1)
    return delay


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


def _wants(webhook: dict[str, Any], event: str) -> bool:
    events = webhook.get("events", ["*"])
    return "*" in events or event in events


class WebhookDispatcher:
    """Delivers store events to webhooks asynchronously and keeps a bounded delivery log."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_deliveries: int = MAX_DELIVERIES,
    ) -> None:
        #: Seconds each attempt may take to connect and to answer; read at every attempt.
        self.timeout = timeout
        self._inbox: queue.SimpleQueue[tuple[str, dict[str, Any], list[dict[str, Any]]] | None]
        self._inbox = queue.SimpleQueue()
        self._log: deque[dict[str, Any]] = deque(maxlen=max_deliveries)
        self._changed = threading.Condition()
        self._lanes: dict[str, deque[tuple[dict[str, Any], dict[str, Any]]]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._router: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- the store's side ---------------------------------------------------------------
    def on_store_event(self, instance: dict[str, Any], event: str, payload: dict[str, Any]) -> None:
        """Store listener: called under the store lock, so it only snapshots and enqueues."""
        webhooks = [w for w in instance.get("webhooks", []) if _wants(w, event)]
        if not webhooks or self._stopping.is_set():
            return
        envelope = build_envelope(instance, event, payload)
        self._inbox.put((instance["id"], envelope, copy.deepcopy(webhooks)))
        if self._router is None:
            with self._changed:
                if self._router is None:
                    self._router = threading.Thread(
                        target=self._route, name="chatlabels-webhooks", daemon=True
                    )
                    self._router.start()

    # -- the test's side ----------------------------------------------------------------
    def deliveries(
        self, *, instance_id: str | None = None, event: str | None = None
    ) -> list[dict[str, Any]]:
        """Copies of the logged deliveries, oldest first, optionally filtered."""
        with self._changed:
            return [copy.deepcopy(d) for d in self._matching(instance_id, event)]

    def clear(self) -> None:
        """Forget the log (deliveries still in flight finish but are no longer listed)."""
        with self._changed:
            self._log.clear()

    def wait_for(
        self,
        *,
        count: int = 1,
        event: str | None = None,
        instance_id: str | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Block until ``count`` matching deliveries have finished (delivered or failed).

        Returns every finished matching delivery in the log, oldest first; raises
        TimeoutError saying what was seen when ``timeout`` seconds pass first.
        """

        def finished() -> list[dict[str, Any]]:
            return [d for d in self._matching(instance_id, event) if d["outcome"] in _FINISHED]

        with self._changed:
            if not self._changed.wait_for(lambda: len(finished()) >= count, timeout):
                matching = list(self._matching(instance_id, event))
                pending = sum(d["outcome"] == "pending" for d in matching)
                raise TimeoutError(
                    f"waited {timeout} s for {count} finished webhook deliveries "
                    f"(event={event!r}, instance_id={instance_id!r}); "
                    f"{len(matching) - pending} finished, {pending} still pending. "
                    "Check the instance's `webhooks` in the fixture (url, events) and that "
                    "the change really changed something: a no-op fires no event."
                )
            return [copy.deepcopy(d) for d in finished()]

    def close(self) -> None:
        """Stop routing and retrying; requests in flight are abandoned to daemon threads."""
        self._stopping.set()
        self._inbox.put(None)
        with self._changed:
            threads = [t for t in (self._router, *self._workers.values()) if t is not None]
        deadline = time.monotonic() + 1.0  # one second in all, however many lanes hang
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # -- the worker's side --------------------------------------------------------------
    def _matching(self, instance_id: str | None, event: str | None) -> Iterator[dict[str, Any]]:
        for delivery in self._log:
            if instance_id not in (None, delivery["instanceId"]):
                continue
            if event not in (None, delivery["event"]):
                continue
            yield delivery

    def _route(self) -> None:
        while (item := self._inbox.get()) is not None:
            instance_id, envelope, webhooks = item
            body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
            with self._changed:
                for webhook in webhooks:
                    headers = _request_headers(webhook, envelope, body)
                    delivery = {
                        "eventId": envelope["id"],
                        "event": envelope["event"],
                        "instanceId": instance_id,
                        "session": envelope["session"],
                        "url": webhook["url"],
                        "requestId": headers["X-Webhook-Request-Id"],
                        "outcome": "pending",
                        "attempts": [],
                        "headers": _redacted(headers),
                        "body": body.decode(),
                        "envelope": envelope,
                    }
                    self._log.append(delivery)
                    lane_key = f"{instance_id} {json.dumps(webhook, sort_keys=True)}"
                    job = (delivery, {"webhook": webhook, "headers": headers, "body": body})
                    self._lanes.setdefault(lane_key, deque()).append(job)
                    if lane_key not in self._workers:
                        worker = threading.Thread(
                            target=self._drain,
                            args=(lane_key,),
                            name="chatlabels-webhook",
                            daemon=True,
                        )
                        self._workers[lane_key] = worker
                        worker.start()

    def _drain(self, lane_key: str) -> None:
        """Deliver one webhook's jobs in order; the thread ends when the lane is empty."""
        while True:
            with self._changed:
                lane = self._lanes.get(lane_key)
                if not lane or self._stopping.is_set():
                    self._lanes.pop(lane_key, None)
                    self._workers.pop(lane_key, None)
                    return
                delivery, request = lane.popleft()
            self._deliver(delivery, **request)

    def _deliver(
        self, delivery: dict[str, Any], *, webhook: dict[str, Any], headers: Any, body: bytes
    ) -> None:
        retries = webhook.get("retries") or {}
        attempts = int(retries.get("attempts", DEFAULT_RETRIES["attempts"]))
        wait = 0.0
        for number in range(1, attempts + 2):
            if wait and self._stopping.wait(wait):
                return
            attempt, retry_after = self._attempt(webhook["url"], headers, body, number, wait)
            with self._changed:
                delivery["attempts"].append(attempt)
                if attempt["statusCode"] is not None and 200 <= attempt["statusCode"] < 300:
                    delivery["outcome"] = "delivered"
                elif number > attempts:
                    delivery["outcome"] = "failed"
                self._changed.notify_all()
            if delivery["outcome"] != "pending":
                return
            wait = max(retry_delay(retries, number), retry_after)

    def _attempt(
        self, url: str, headers: Any, body: bytes, number: int, waited: float
    ) -> tuple[dict[str, Any], float]:
        started = time.time_ns() // 1_000_000
        clock = time.perf_counter()
        status: int | None = None
        error: str | None = None
        retry_after = 0.0
        # Imported on first delivery: requests is a fifth of the server's cold start.
        import requests

        try:
            # Redirects are not followed: a 3xx would turn the POST into a body-less GET.
            response = requests.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
            status = response.status_code
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            response.close()
        except requests.Timeout:
            error = f"timeout: no answer within {self.timeout} s"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = {
            "attempt": number,
            "startedAt": started,
            "waitedSeconds": round(waited, 3),
            "statusCode": status,
            "error": error,
            "durationMs": round((time.perf_counter() - clock) * 1000, 1),
        }
        return attempt, retry_after


def _request_headers(webhook: dict[str, Any], envelope: dict[str, Any], body: bytes) -> Any:
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


def _redacted(headers: Any) -> dict[str, str]:
    return {
        name: REDACTED if is_secret(name) and name.lower() not in _KEPT_HEADERS else value
        for name, value in headers.items()
    }


def _retry_after_seconds(value: str | None) -> float:
    """A ``Retry-After`` given in seconds (the HTTP-date form is ignored), capped at 60 s."""
    try:
        return min(max(float(value or 0), 0.0), 60.0)
    except ValueError:
        return 0.0
