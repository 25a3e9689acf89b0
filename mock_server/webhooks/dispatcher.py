"""WAHA-style webhooks: every real label change is POSTed to the instance's webhook URLs.

The store calls ``on_store_event`` while holding its lock, so that method only puts the
event in an inbox. A router thread turns each event into one delivery per matching webhook
and appends it to that webhook's lane; each lane is drained by its own short-lived worker
thread, so deliveries to one URL keep the order of the changes while a slow or hanging
receiver holds up nobody else (not the API, not the other webhooks).

What is sent (envelope, headers, signature, retry delays) is built in
``webhook_envelope.py``; this module decides when. As in WAHA's ``WebhookSender``
(devlikeapro/waha): any answer but 2xx, and any connection error or timeout, is retried;
``retries.attempts`` counts retries (so ``attempts + 1`` tries).
"""

from __future__ import annotations

import copy
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from chatlabels.mock.limits import DEFAULT_WEBHOOK_QUEUE, ServerLimits
from chatlabels.mock.webhooks.envelope import (
    DEFAULT_RETRIES,
    build_envelope,
    encode_body,
    redacted_headers,
    request_headers,
    retry_after_seconds,
    retry_delay,
)
from chatlabels.mock.webhooks.queue import DeliveryQueue

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "MAX_DELIVERIES", "WebhookDispatcher"]

DEFAULT_TIMEOUT_SECONDS = 10.0
#: Deliveries kept in the log by default (``--webhook-log``); older ones are dropped so a
#: long run cannot exhaust memory.
MAX_DELIVERIES: int = ServerLimits.webhook_log
_FINISHED = ("delivered", "failed", "dropped")


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
        max_pending: int = DEFAULT_WEBHOOK_QUEUE,
    ) -> None:
        #: Seconds each attempt may take to connect and to answer; read at every attempt.
        self.timeout = timeout
        self._inbox: queue.SimpleQueue[tuple[str, dict[str, Any], list[dict[str, Any]]] | None]
        self._inbox = queue.SimpleQueue()
        self._log: deque[dict[str, Any]] = deque(maxlen=max_deliveries)
        self._changed = threading.Condition()
        self._queue: DeliveryQueue[tuple[dict[str, Any], dict[str, Any]]]
        self._queue = DeliveryQueue(max_pending)
        self.dropped = 0
        self._workers: dict[str, threading.Thread] = {}
        self._router: threading.Thread | None = None
        self._stopping = threading.Event()
        #: set when the server stops: a long-poll answers at once instead of holding the
        #: graceful stop for its whole timeout
        self._released = False

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
            self._changed.wait_for(lambda: self._released or len(finished()) >= count, timeout)
            done = finished()
            if len(done) >= count:
                return [copy.deepcopy(d) for d in done]
            pending = sum(d["outcome"] == "pending" for d in self._matching(instance_id, event))
            chosen = ", ".join(
                f"{name} {value!r}"
                for name, value in (("event", event), ("instance", instance_id))
                if value is not None
            )
            seen = f"{len(done)} finished, {pending} still pending"
            if self._released:
                raise TimeoutError(f"the mock is stopping; {seen}.")
            raise TimeoutError(
                f"waited {timeout} s for {count} finished webhook deliveries"
                f"{f' ({chosen})' if chosen else ''}; {seen}. "
                "Check the instance's `webhooks` in the fixture (url, events) and that "
                "the change really changed something: a no-op fires no event."
            )

    def release_waiters(self) -> None:
        """The server is stopping: every long-poll, waiting or still to come, answers now."""
        with self._changed:
            self._released = True
            self._changed.notify_all()

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
            body = encode_body(envelope)
            with self._changed:
                for webhook in webhooks:
                    headers = request_headers(webhook, envelope, body)
                    delivery = {
                        "eventId": envelope["id"],
                        "event": envelope["event"],
                        "instanceId": instance_id,
                        "session": envelope["session"],
                        "url": webhook["url"],
                        "requestId": headers["X-Webhook-Request-Id"],
                        "outcome": "pending",
                        "attempts": [],
                        "headers": redacted_headers(headers),
                        "body": body.decode(),
                        "envelope": envelope,
                    }
                    self._log.append(delivery)
                    lane_key = f"{instance_id} {json.dumps(webhook, sort_keys=True)}"
                    job = (delivery, {"webhook": webhook, "headers": headers, "body": body})
                    for lost, _ in self._queue.put(lane_key, job):
                        self._drop(lost)
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
                job = None if self._stopping.is_set() else self._queue.take(lane_key)
                if job is None:
                    self._workers.pop(lane_key, None)
                    return
            delivery, request = job
            self._deliver(delivery, **request)

    def _drop(self, delivery: dict[str, Any]) -> None:
        """Record a delivery pushed out of the full queue (the lock is held)."""
        self.dropped += 1
        delivery["outcome"] = "dropped"
        delivery["error"] = (
            f"dropped unsent: {self._queue.max_pending} deliveries were waiting "
            "(--webhook-queue); the receiver is too slow or down"
        )
        self._changed.notify_all()

    def stats(self) -> dict[str, int]:
        """Deliveries waiting to be sent, and dropped from the full queue since the start."""
        with self._changed:
            return {
                "pending": len(self._queue),
                "dropped": self.dropped,
                "max": self._queue.max_pending,
            }

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
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
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
