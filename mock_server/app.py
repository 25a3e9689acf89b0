"""The app factory: one Flask app per loaded store, no module-level state."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from chatlabels.mock.control.api import admin_blueprint
from chatlabels.mock.control.control import Control
from chatlabels.mock.control.faults import FaultRules
from chatlabels.mock.control.guard import AdminGuard
from chatlabels.mock.control.journal import RequestJournal
from chatlabels.mock.control.rate_limit import RateLimits, fixture_rate_limits
from chatlabels.mock.http.cors import Cors
from chatlabels.mock.http.errors import ErrorDialect, register_error_handlers
from chatlabels.mock.http.fast_path import FastPath
from chatlabels.mock.http.hooks import install_request_hooks
from chatlabels.mock.http.parsed_request import dialect_of
from chatlabels.mock.limits import (
    DEFAULT_JOURNAL_BYTES,
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_LONG_POLLS,
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_WEBHOOK_QUEUE,
    ServerLimits,
)
from chatlabels.mock.openapi import openapi_blueprint
from chatlabels.mock.provider.api import provider_blueprint
from chatlabels.mock.provider.errors import PROVIDER_ERRORS
from chatlabels.mock.state.store import Store
from chatlabels.mock.waha.api import waha_blueprint
from chatlabels.mock.waha.errors import WAHA_ERRORS
from chatlabels.mock.webhooks.dispatcher import WebhookDispatcher

__all__ = ["AppState", "Settings", "app_state", "create_app", "error_dialect"]


@dataclass(frozen=True)
class Settings:
    """How the server was started; what the app needs to know of it."""

    host: str = "127.0.0.1"
    admin_token: str | None = None
    journal_size: int = DEFAULT_JOURNAL_SIZE
    journal_bytes: int = DEFAULT_JOURNAL_BYTES
    #: Webhook deliveries waiting to be sent; beyond, the oldest is dropped (recorded).
    webhook_queue: int = DEFAULT_WEBHOOK_QUEUE
    #: Names besides loopback under which /__admin/ may be addressed (``--public-host``).
    public_hosts: tuple[str, ...] = ()
    max_long_polls: int = DEFAULT_MAX_LONG_POLLS
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS
    #: Bounds of the HTTP server; the app enforces the body sizes again (in-process clients).
    limits: ServerLimits = field(default_factory=ServerLimits)
    #: CORS headers on the provider dialect too (``--no-cors`` turns them off); the WAHA
    #: dialect always has them, as WAHA does, and ``/__admin/`` never.
    cors: bool = True
    #: Answer the hot reads before Flask dispatch (http/fast_path.py); same answers either way.
    fast_path: bool = True
    #: Whether the HTTP server can drop a connection without answering (waitress can,
    #: granian cannot): fault rules that do are refused otherwise.
    can_drop_connections: bool = True

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the server (control API allowed unguarded)."""
        return self.host in {"127.0.0.1", "localhost", "::1"} or self.host.startswith("127.")


@dataclass(frozen=True)
class AppState:
    """Everything one app serves and observes, stored once on the app (``app_state``)."""

    settings: Settings
    control: Control
    #: Who may call /__admin/; a blueprint added under /__admin/ runs ``guard.check`` first.
    admin_guard: AdminGuard

    def close(self) -> None:
        """Stop what outlives requests (webhook deliveries in flight)."""
        self.control.webhooks.close()


_STATE_KEY = "chatlabels"


def app_state(app: Flask) -> AppState:
    """The state ``create_app`` gave ``app``; a TypeError for an app it did not build."""
    state = app.extensions.get(_STATE_KEY)
    if not isinstance(state, AppState):
        raise TypeError(f"{app.name!r} was not built by chatlabels.mock.create_app")
    return state


def error_dialect(path: str) -> ErrorDialect:
    """The dialect whose error bodies a path answers with (also for protocol errors)."""
    return WAHA_ERRORS if dialect_of(path) == "waha" else PROVIDER_ERRORS


def create_app(store: Store, settings: Settings | None = None) -> Flask:
    """A Flask app serving ``store`` in every dialect the mock emulates."""
    settings = settings or Settings()
    app = Flask("chatlabels.mock", static_folder=None)  # no /static/ route: every route is an API
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the provider's key order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.max_body_bytes
    # Werkzeug answers "//" and a missing trailing slash with an HTML redirect that repeats
    # the query, token included, and OPTIONS with an empty text/html 200: every answer of
    # the mock is JSON, so these go through the JSON error path (404, 400 or 405) instead.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    limits = settings.limits
    webhooks = WebhookDispatcher(
        max_pending=settings.webhook_queue, max_deliveries=limits.webhook_log
    )
    store.add_listener(webhooks.on_store_event)

    initial = store.dump()
    control = Control(
        store,
        journal=RequestJournal(
            settings.journal_size,
            max_bytes=settings.journal_bytes,
            field_chars=limits.journal_field_chars,
            field_items=limits.journal_field_items,
        ),
        faults=FaultRules(initial.get("faults", []), can_drop=settings.can_drop_connections),
        rate_limits=RateLimits(fixture_rate_limits(initial)),
        webhooks=webhooks,
        admin_token=settings.admin_token,
        report_bounds=limits.report_bounds,
    )
    register_error_handlers(
        app, dialect_for=error_dialect, redact=lambda body: control.redactor.redact_json(body)
    )
    guard = AdminGuard(
        admin_token=settings.admin_token,
        loopback_only=settings.loopback_only,
        public_hosts=settings.public_hosts,
        bound_host=settings.host,
    )
    app.extensions[_STATE_KEY] = AppState(settings, control, guard)
    # First, before any blueprint's own hooks (WAHA's key guard): the clock, faults and the
    # journal see every request of the emulated API, whatever answers it. Then CORS, which
    # answers a preflight before the key is looked at, as WAHA's first middleware does.
    cors = Cors(everywhere=settings.cors)
    install_request_hooks(app, control, is_preflight=cors.is_preflight)
    cors.install(app, lambda text: control.redactor.redact(text))
    app.register_blueprint(provider_blueprint(store))
    app.register_blueprint(waha_blueprint(store))
    app.register_blueprint(openapi_blueprint())
    app.register_blueprint(
        admin_blueprint(
            control,
            guard=guard,
            max_long_polls=settings.max_long_polls,
            max_wait_seconds=settings.max_wait_seconds,
            max_body_bytes=settings.limits.max_admin_body_bytes,
        )
    )
    if settings.fast_path:
        fast = FastPath(app, control, app.wsgi_app, cors=cors)
        app.wsgi_app = fast  # type: ignore[method-assign]
    return app
