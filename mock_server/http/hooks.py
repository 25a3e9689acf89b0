"""The one place that observes and disturbs requests: clock, rate limit, faults, journal, log.

Before a request of the emulated API is handled, its instance's rate limit is counted and
the fault rules decide its fate (latency, an error status, a dropped connection). After it
is handled, body faults (malformed JSON, object root) rewrite the answer, the journal
records it and one access-log line is written with its secrets redacted: by name
(``access_token=[redacted]``) and by value (``Control.redactor``: a known secret wherever it
shows, in a path, a header, a body or inside another value). ``/__admin/`` and
``/openapi.json`` are never disturbed; ``/__admin/`` is logged but not journaled, so
reading the journal does not change it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from waitress.channel import ClientDisconnected
from werkzeug.exceptions import HTTPException

from chatlabels.contract.value_redaction import ValueRedactor
from chatlabels.mock.control.control import Control
from chatlabels.mock.control.faults import FaultPlan
from chatlabels.mock.http.logs import ACCESS_LOGGER, AccessRecord, new_request_id
from chatlabels.mock.http.parsed_request import ParsedRequest, current_request, parse_request
from chatlabels.mock.http.redaction import REDACTED, is_secret, redact_headers

__all__ = ["access_record", "install_request_hooks", "journal_entry"]

log = logging.getLogger(ACCESS_LOGGER)


class _DroppedConnection:
    """A response body whose first read drops the connection without sending a byte.

    waitress sends headers only with the first body chunk, and when the application raises
    its ``ClientDisconnected`` it closes the socket instead of answering 500. The client
    sees the connection close with no HTTP answer at all, as when a proxy dies mid-request.
    """

    def __iter__(self) -> _DroppedConnection:
        return self

    def __next__(self) -> bytes:
        raise ClientDisconnected("connection dropped by a fault rule")


def install_request_hooks(
    app: Flask, control: Control, *, is_preflight: Callable[[str, str], bool]
) -> None:
    """Register the before/after pair on ``app``, acting on ``control``'s state.

    ``is_preflight(method, path)`` names the CORS preflights (http/cors.py): they are
    journaled and logged, but neither rate-limited nor faulted, as nothing in WAHA sees them
    before its cors middleware answers.
    """
    store, journal = control.store, control.journal
    faults, rate_limits = control.faults, control.rate_limits

    @app.before_request
    def before() -> Response | None:
        g.started = time.perf_counter()
        # One id per request, quoted by its journal entry, its log line and a 500's message.
        g.request_id = new_request_id()
        g.parsed_request = parsed = parse_request(store, request, view_args=request.view_args)
        if not parsed.emulated or is_preflight(parsed.method, parsed.path):
            return None
        if parsed.counted_instance is not None:
            rate_limits.admit(parsed.counted_instance)
        g.fault_plan = plan = faults.plan(parsed)
        if plan is None:
            return None
        if plan.latency_seconds:
            time.sleep(plan.latency_seconds)
        if plan.error is not None:
            raise plan.error
        if plan.drop_connection:
            return Response(_DroppedConnection(), mimetype="application/json")
        return None

    @app.after_request
    def after(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        plan: FaultPlan | None = g.get("fault_plan")
        if plan is not None:
            _rewrite_body(app, response, plan)
        dropped = plan is not None and plan.drop_connection
        parsed = current_request()
        status = None if dropped else response.status_code
        redactor = control.redactor
        record = access_record(parsed, status, elapsed_ms, g.request_id, redactor)
        if parsed.emulated:
            body = _body_text(redactor)
            entry = journal_entry(
                record, parsed, request.headers.items(), body, redactor, plan, at=time.time()
            )
            journal.record(entry)
        # The dashboard reads /__admin/ every second; at info those reads would drown the
        # requests a user is watching for.
        admin_read = not parsed.emulated and parsed.method in ("GET", "HEAD")
        log.log(logging.DEBUG if admin_read else logging.INFO, "%s", record)
        return response


def access_record(
    parsed: ParsedRequest,
    status: int | None,
    elapsed_ms: float,
    request_id: str,
    redactor: ValueRedactor,
) -> AccessRecord:
    """The request as logged, secrets redacted by name and by value (``None`` status: the
    connection dropped)."""
    redact = redactor.redact
    query: dict[str, list[str]] = {}
    for name, value in parsed.query:
        query.setdefault(redact(name), []).append(REDACTED if is_secret(name) else redact(value))
    instance = parsed.instance_id
    return AccessRecord(
        method=redact(parsed.method),
        path=redact(parsed.path),
        query=query,
        status=status,
        duration_ms=round(elapsed_ms, 1),
        request_id=request_id,
        instance=None if instance is None else redact(instance),
        redactor=redactor,
    )


def _rewrite_body(app: Flask, response: Response, plan: FaultPlan) -> None:
    if not (plan.malformed_json or plan.object_root) or not response.is_json:
        return
    data = response.get_data()
    if plan.malformed_json:
        # Cut inside the outermost [...] or {...}: no proper prefix of it parses.
        response.set_data(data[: max(1, len(data) // 2)])
        return
    document = json.loads(data)
    if isinstance(document, list):
        # Quirk: the provider's docs show {"0": {...}} (PHP's json_encode of a list with
        # gaps) where the prose promises an array; emulated on request so clients can test
        # that they cope with, or at least detect, that drift.
        keyed = {str(i): item for i, item in enumerate(document)}
        response.set_data(app.json.dumps(keyed) + "\n")


def journal_entry(
    record: AccessRecord,
    parsed: ParsedRequest,
    headers: Iterable[tuple[str, str]],
    body: str | None,
    redactor: ValueRedactor,
    plan: FaultPlan | None = None,
    *,
    at: float,
) -> dict[str, Any]:
    """The journal entry of a request answered at ``at`` (``time.time()``): its access
    record plus headers and body, redacted by name and by value (``body`` is redacted
    already: before it was cut)."""

    def redact(text: str | None) -> str | None:
        return None if text is None else redactor.redact(text)

    return {
        "time": datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"),
        "method": record.method,
        "path": record.path,
        "query": record.query,
        "headers": redactor.redact_json(redact_headers(headers)),
        "body": body,
        "status": record.status,
        "duration_ms": record.duration_ms,
        "instance": redact(parsed.instance_id),
        "session": redact(parsed.session),
        "chat": redact(parsed.chat),
        "faults": plan.rule_ids if plan is not None else [],
        "request_id": record.request_id,
    }


def _body_text(redactor: ValueRedactor) -> str | None:
    """The request body as text, redacted (whole, so no part of a secret is left where the
    journal cuts it); None when empty or unreadable."""
    length = request.content_length
    limit = request.max_content_length
    if not length or (limit is not None and length > limit):
        return None
    try:
        data = request.get_data(cache=True)
    except HTTPException:
        return None
    return redactor.redact(data.decode("utf-8", "replace")) or None
