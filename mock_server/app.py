"""The app factory: one Flask app per loaded store, no module-level state."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from chatlabels.mock.control.api import admin_blueprint
from chatlabels.mock.control.control import Control
from chatlabels.mock.control.faults import FaultRules
from chatlabels.mock.control.journal import DEFAULT_JOURNAL_SIZE, RequestJournal
from chatlabels.mock.control.rate_limit import RateLimits, fixture_rate_limits
from chatlabels.mock.http.errors import register_error_handlers
from chatlabels.mock.http.hooks import install_request_hooks
from chatlabels.mock.openapi import openapi_blueprint
from chatlabels.mock.provider.api import provider_blueprint
from chatlabels.mock.state.store import Store
from chatlabels.mock.waha.api import waha_blueprint
from chatlabels.mock.waha.errors import waha_error_for
from chatlabels.mock.webhooks.dispatcher import WebhookDispatcher

__all__ = ["Settings", "create_app"]


@dataclass(frozen=True)
class Settings:
    """How the server was started; what the app needs to know of it."""

    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = None
    max_body_bytes: int = 64 * 1024
    journal_size: int = DEFAULT_JOURNAL_SIZE

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the server (control API allowed unguarded)."""
        return self.host in {"127.0.0.1", "localhost", "::1"} or self.host.startswith("127.")


def create_app(store: Store, settings: Settings | None = None) -> Flask:
    """A Flask app serving ``store`` in every dialect the mock emulates."""
    settings = settings or Settings()
    app = Flask("chatlabels.mock", static_folder=None)  # no /static/ route: every route is an API
    app.json.sort_keys = False  # the provider's key order: id, name, color, colorHex
    app.json.ensure_ascii = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Werkzeug answers "//" and a missing trailing slash with an HTML redirect that repeats
    # the query, token included, and OPTIONS with an empty text/html 200: every answer of
    # the mock is JSON, so these go through the JSON error path (404, 400 or 405) instead.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    register_error_handlers(app, dialect_error=waha_error_for)
    webhooks = WebhookDispatcher()
    store.add_listener(webhooks.on_store_event)
    app.extensions["chatlabels.webhooks"] = webhooks
    app.extensions.setdefault("chatlabels.closers", []).append(webhooks.close)

    initial = store.dump()
    journal = RequestJournal(settings.journal_size)
    faults = FaultRules(initial.get("faults", []))
    rate_limits = RateLimits(fixture_rate_limits(initial))
    control = Control(app, store, journal=journal, faults=faults, rate_limits=rate_limits)
    # First, before any blueprint's own hooks (WAHA's key guard): the clock, faults and the
    # journal see every request of the emulated API, whatever answers it.
    install_request_hooks(app, control)
    app.register_blueprint(provider_blueprint(store))
    app.register_blueprint(waha_blueprint(store))
    app.register_blueprint(openapi_blueprint())
    app.register_blueprint(
        admin_blueprint(
            control, admin_token=settings.admin_token, loopback_only=settings.loopback_only
        )
    )
    app.extensions["chatlabels.journal"] = journal
    app.extensions["chatlabels.faults"] = faults
    app.extensions["chatlabels.rate_limits"] = rate_limits
    app.extensions["chatlabels.control"] = control

    return app
