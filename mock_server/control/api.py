"""The control API under ``/__admin/``: what a test uses to set up, disturb and verify.

Invented by this project, so it lives under its own prefix, apart from the emulated API.
Access: open on loopback; beyond loopback it is off unless an admin token is configured
(``chatlabels serve --admin-token`` or ``CHATLABELS_ADMIN_TOKEN``); with a token every call
needs the ``X-Admin-Token`` header, on any interface. The token is never logged or echoed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from chatlabels.contract import strict_json
from chatlabels.contract.schemas import json_pointer, validator
from chatlabels.mock.control.control import Control
from chatlabels.mock.http.errors import ApiError, InvalidDocument
from chatlabels.mock.http.redaction import secrets_match

__all__ = ["ADMIN_MAX_BODY", "admin_blueprint"]

#: A fixture document may be far bigger than any label call.
ADMIN_MAX_BODY = 8 * 1024 * 1024
_MAX_WAIT_SECONDS = 60.0


def admin_blueprint(control: Control, *, admin_token: str | None, loopback_only: bool) -> Blueprint:
    """Routes of the control API over ``control``'s objects."""
    bp = Blueprint("admin", __name__, url_prefix="/__admin")

    @bp.before_request
    def guard() -> None:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            # A web page the developer happens to open could otherwise reset or replace the
            # mock's state with a no-preflight POST; browsers always send Origin on those.
            raise ApiError(
                403,
                "cross_origin",
                "The control API refuses requests from web pages of another origin.",
            )
        if admin_token is None:
            if loopback_only:
                return
            raise ApiError(
                403,
                "admin_disabled",
                "The control API is off because the server listens beyond loopback; start it "
                "with --admin-token TOKEN (or CHATLABELS_ADMIN_TOKEN) and send the token in "
                "the X-Admin-Token header.",
            )
        given = request.headers.get("X-Admin-Token", "")
        if not (given and secrets_match(given, admin_token)):
            raise ApiError(
                401, "unauthorized", "Missing or wrong X-Admin-Token header for /__admin/."
            )

    @bp.get("/health")
    def health() -> Response:
        return jsonify(
            {
                "status": "ok",
                "journal": {"entries": len(control.journal), "max": control.journal.maxlen},
                "faults": len(control.faults.rules()),
            }
        )

    @bp.post("/reset")
    def reset() -> Response:
        control.reset()
        return _done(
            "State, fault rules and rate limits are back to the loaded fixture; the request "
            "journal and the webhook delivery log are cleared."
        )

    @bp.get("/fixture")
    def dump_fixture() -> Response:
        return jsonify(control.dump())

    @bp.post("/fixture")
    def load_fixture() -> Response:
        request.max_content_length = ADMIN_MAX_BODY
        fixture = control.load(_json_body())
        return _done(f"Loaded a fixture with {len(fixture['instances'])} instance(s).")

    @bp.get("/requests")
    def list_requests() -> Response:
        entries = control.journal.entries(
            path=request.args.get("path"),
            instance=request.args.get("instance"),
            method=request.args.get("method"),
            limit=_number_param("limit", int, low=1, high=control.journal.maxlen),
        )
        return jsonify({"requests": entries, "count": len(entries)})

    @bp.delete("/requests")
    def clear_requests() -> Response:
        return _done(f"Forgot {control.journal.clear()} journal entries.")

    @bp.get("/webhooks")
    def list_webhooks() -> Response:
        dispatcher = control.webhooks
        filters = {"instance_id": request.args.get("instance"), "event": request.args.get("event")}
        wait = _number_param("wait", int, low=1, high=10_000)
        timeout = _number_param("timeout", float, low=0.0, high=_MAX_WAIT_SECONDS)
        body: dict[str, Any] = {}
        if wait is not None:
            try:
                dispatcher.wait_for(
                    count=wait, timeout=5.0 if timeout is None else timeout, **filters
                )
                body["waited"] = {"count": wait, "satisfied": True}
            except TimeoutError as exc:
                body["waited"] = {"count": wait, "satisfied": False, "message": str(exc)}
        deliveries = dispatcher.deliveries(**filters)
        return jsonify({"deliveries": deliveries, "count": len(deliveries), **body})

    @bp.delete("/webhooks")
    def clear_webhooks() -> Response:
        control.webhooks.clear()
        return _done("Forgot the webhook delivery log.")

    @bp.get("/faults")
    def list_faults() -> Response:
        return jsonify({"faults": control.faults.rules()})

    @bp.post("/faults")
    def add_faults() -> tuple[Response, int]:
        document = _json_body()
        rules = document if isinstance(document, list) else [document]
        added = control.faults.add(rules)
        return jsonify({"faults": added}), 201

    @bp.delete("/faults")
    def clear_faults() -> Response:
        return _done(f"Removed {control.faults.clear()} fault rule(s).")

    @bp.delete("/faults/<rule_id>")
    def remove_fault(rule_id: str) -> Response:
        if not control.faults.remove(rule_id):
            raise ApiError(
                404,
                "fault_not_found",
                f"No fault rule {rule_id!r}; GET /__admin/faults lists them.",
            )
        return _done(f"Removed fault rule {rule_id!r}.")

    @bp.get("/instances/<name>/rate-limit")
    def get_rate_limit(name: str) -> Response:
        return jsonify({"rate_limit": control.rate_limits.get(_instance_id(control, name))})

    @bp.put("/instances/<name>/rate-limit")
    def set_rate_limit(name: str) -> Response:
        instance_id = _instance_id(control, name)
        limit = _json_body()
        problems = [
            (json_pointer(e.absolute_path), e.message)
            for e in _rate_limit_validator().iter_errors(limit)
        ]
        if problems:
            raise InvalidDocument("invalid_rate_limit", "The rate limit was not set", problems)
        control.rate_limits.set(instance_id, limit)
        return jsonify({"rate_limit": control.rate_limits.get(instance_id)})

    @bp.delete("/instances/<name>/rate-limit")
    def remove_rate_limit(name: str) -> Response:
        control.rate_limits.set(_instance_id(control, name), None)
        return _done(f"Instance {name!r} has no rate limit now.")

    return bp


def _done(message: str) -> Response:
    return jsonify({"success": True, "message": message})


def _json_body() -> Any:
    try:
        return strict_json.loads(request.get_data())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(
            400, "invalid_parameter", f"Request body is not JSON ({exc}); send a JSON document."
        ) from None


def _number_param(name: str, kind: type, *, low: float, high: float) -> Any:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = kind(raw)
    except ValueError:
        value = None
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
