"""The control API under ``/__admin/``: what a test uses to set up, disturb and verify.

Invented by this project, so it lives under its own prefix, apart from the emulated API.
Who may call it is ``guard.AdminGuard``'s decision. Two calls need more care: the fixture
dump shows secrets only to a caller holding the admin token, and long-polls on the webhook
log are capped in number and duration, since each holds a worker thread that the emulated
API needs (an ``<img>`` tag on any web page can start one: it sends no ``Origin``).

Every answer goes through ``Control.redactor`` (the known secrets, by value), the one
exception being the dump the admin token holder asked to see with its secrets.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import Blueprint, Response, jsonify, request

from chatlabels.contract import strict_json
from chatlabels.contract.fixture_secrets import redact_secrets
from chatlabels.contract.schemas import integral_as_int, json_pointer, schema_reason, validator
from chatlabels.mock.control.control import Control
from chatlabels.mock.control.dashboard import dashboard_response
from chatlabels.mock.control.guard import AdminGuard
from chatlabels.mock.http.errors import ApiError, InvalidDocument
from chatlabels.mock.limits import DEFAULT_MAX_LONG_POLLS, DEFAULT_MAX_WAIT_SECONDS, ServerLimits

__all__ = ["admin_blueprint"]

_DASHBOARD_FILES = {"admin.dashboard", "admin.dashboard_script", "admin.dashboard_style"}


def admin_blueprint(
    control: Control,
    *,
    guard: AdminGuard,
    max_long_polls: int = DEFAULT_MAX_LONG_POLLS,
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    max_body_bytes: int = ServerLimits.max_body_bytes,
) -> Blueprint:
    """Routes of the control API over ``control``'s objects, behind ``guard``."""
    bp = Blueprint("admin", __name__, url_prefix="/__admin")
    long_polls = threading.BoundedSemaphore(max_long_polls)

    def answer(document: Any) -> Response:
        return jsonify(control.redactor.redact_json(document))

    def done(message: str) -> Response:
        return answer({"success": True, "message": message})

    @bp.before_request
    def check_access() -> None:
        # The dashboard's files hold no data: they load without the token, which the page
        # then asks for and sends itself; every other rule applies to them too.
        guard.check(request, token_required=request.endpoint not in _DASHBOARD_FILES)

    @bp.get("/")
    def dashboard() -> Response:
        return dashboard_response("index.html")

    @bp.get("/dashboard.js")
    def dashboard_script() -> Response:
        return dashboard_response("dashboard.js")

    @bp.get("/dashboard.css")
    def dashboard_style() -> Response:
        return dashboard_response("dashboard.css")

    @bp.get("/health")
    def health() -> Response:
        return answer(
            {
                "status": "ok",
                "journal": {"entries": len(control.journal), "max": control.journal.maxlen},
                "journal_bytes": {
                    "used": control.journal.bytes,
                    "max": control.journal.max_bytes,
                },
                "faults": len(control.faults.rules()),
                "webhooks": control.webhooks.stats(),
            }
        )

    @bp.post("/reset")
    def reset() -> Response:
        control.reset()
        return done(
            "State, fault rules and rate limits are back to the loaded fixture; the request "
            "journal and the webhook delivery log are cleared."
        )

    @bp.get("/fixture")
    def dump_fixture() -> Response:
        if request.args.get("secrets") in {None, "false"}:
            return answer(redact_secrets(control.dump()))
        if request.args.get("secrets") != "true":
            raise ApiError(400, "invalid_parameter", "Query parameter 'secrets' is true or false.")
        if not guard.has_token:
            raise ApiError(
                403,
                "secrets_need_admin_token",
                "The fixture's secrets are shown only to a caller holding the admin token: "
                "start the mock with --admin-token TOKEN (or CHATLABELS_ADMIN_TOKEN) and send "
                "it in X-Admin-Token. Loading a dump back keeps the redacted secrets anyway.",
            )
        return jsonify(control.dump())  # the guard has checked the token: not redacted

    @bp.post("/fixture")
    def load_fixture() -> Response:
        request.max_content_length = max_body_bytes
        fixture = control.load(_json_body())
        return done(f"Loaded a fixture with {len(fixture['instances'])} instance(s).")

    @bp.get("/requests")
    def list_requests() -> Response:
        entries = control.journal.entries(
            path=request.args.get("path"),
            instance=request.args.get("instance"),
            method=request.args.get("method"),
            limit=_number_param("limit", int, low=1, high=control.journal.maxlen),
        )
        return answer({"requests": entries, "count": len(entries)})

    @bp.delete("/requests")
    def clear_requests() -> Response:
        return done(f"Forgot {control.journal.clear()} journal entries.")

    @bp.get("/webhooks")
    def list_webhooks() -> Response:
        dispatcher = control.webhooks
        filters = {"instance_id": request.args.get("instance"), "event": request.args.get("event")}
        wait = _number_param("wait", int, low=1, high=10_000)
        timeout = _number_param("timeout", float, low=0.0, high=max_wait_seconds)
        body: dict[str, Any] = {}
        if wait is not None:
            if not long_polls.acquire(blocking=False):
                raise ApiError(
                    429,
                    "too_many_waiters",
                    f"{max_long_polls} long-polls are waiting already (--max-long-polls); "
                    "retry when one has answered.",
                    headers={"Retry-After": "1"},
                )
            try:
                dispatcher.wait_for(
                    count=wait,
                    timeout=min(5.0, max_wait_seconds) if timeout is None else timeout,
                    **filters,
                )
                body["waited"] = {"count": wait, "satisfied": True}
            except TimeoutError as exc:
                body["waited"] = {"count": wait, "satisfied": False, "message": str(exc)}
            finally:
                long_polls.release()
        deliveries = dispatcher.deliveries(**filters)
        return answer({"deliveries": deliveries, "count": len(deliveries), **body})

    @bp.delete("/webhooks")
    def clear_webhooks() -> Response:
        control.webhooks.clear()
        return done("Forgot the webhook delivery log.")

    @bp.get("/faults")
    def list_faults() -> Response:
        return answer({"faults": control.faults.rules()})

    @bp.post("/faults")
    def add_faults() -> tuple[Response, int]:
        document = _json_body()
        rules = document if isinstance(document, list) else [document]
        added = control.faults.add(rules, bounds=control.report_bounds)
        return answer({"faults": added}), 201

    @bp.delete("/faults")
    def clear_faults() -> Response:
        return done(f"Removed {control.faults.clear()} fault rule(s).")

    @bp.delete("/faults/<rule_id>")
    def remove_fault(rule_id: str) -> Response:
        if not control.faults.remove(rule_id):
            raise ApiError(
                404,
                "fault_not_found",
                f"No fault rule {rule_id!r}; GET /__admin/faults lists them.",
            )
        return done(f"Removed fault rule {rule_id!r}.")

    @bp.get("/instances/<name>/rate-limit")
    def get_rate_limit(name: str) -> Response:
        return answer({"rate_limit": control.rate_limits.get(_instance_id(control, name))})

    @bp.put("/instances/<name>/rate-limit")
    def set_rate_limit(name: str) -> Response:
        instance_id = _instance_id(control, name)
        limit = _json_body()
        problems = [
            (json_pointer(e.absolute_path), schema_reason(e))
            for e in _rate_limit_validator().iter_errors(limit)
        ]
        if problems:
            raise InvalidDocument(
                "invalid_rate_limit",
                "The rate limit was not set",
                problems,
                bounds=control.report_bounds,
            )
        control.rate_limits.set(instance_id, integral_as_int(limit))
        return answer({"rate_limit": control.rate_limits.get(instance_id)})

    @bp.delete("/instances/<name>/rate-limit")
    def remove_rate_limit(name: str) -> Response:
        control.rate_limits.set(_instance_id(control, name), None)
        return done(f"Instance {name!r} has no rate limit now.")

    return bp


def _json_body() -> Any:
    try:
        return strict_json.loads(request.get_data())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(
            400, "invalid_parameter", f"Request body is not JSON ({exc}); send a JSON document."
        ) from None


_PLAIN_INT = re.compile(r"[0-9]{1,12}")
_PLAIN_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{0,9})?|\.[0-9]{1,9}")


def _number_param(name: str, kind: type, *, low: float, high: float) -> Any:
    """``name``'s value, written in plain ASCII digits and within ``low``-``high``
    (``int()`` and ``float()`` would also take full-width digits, ``1_0``, `` 1``, ``-0``,
    ``1e1`` and ``nan``)."""
    raw = request.args.get(name)
    if raw is None:
        return None
    plain = _PLAIN_INT if kind is int else _PLAIN_NUMBER
    value = kind(raw) if plain.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ApiError(
            400,
            "invalid_parameter",
            f"Query parameter {name!r} must be a{'n integer' if kind is int else ' number'} "
            f"from {low} to {high}.",
        )
    return value


def _instance_id(control: Control, name: str) -> str:
    """The instance named by its provider id or its WAHA session, or a 404."""
    found = control.store.credentials(instance_id=name) or control.store.credentials(session=name)
    if found is None:
        raise ApiError(
            404,
            "instance_not_found",
            f"No instance {name!r}; name one by its instance id or its session "
            "(GET /__admin/fixture shows them).",
        )
    return found.id


def _rate_limit_validator() -> Any:
    """The fixture schema's own ``rateLimit`` definition, with the schemas' registry."""
    ref = {"$ref": "https://chatlabels.dev/schemas/fixture.schema.json#/$defs/rateLimit"}
    return validator("fixture").evolve(schema=ref)
