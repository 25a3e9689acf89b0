"""The app factory: one Flask app per loaded store, no module-level state."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, Response, g, request

from .errors import register_error_handlers
from .openapi_api import openapi_blueprint
from .provider_api import provider_blueprint
from .redaction import redact_query
from .state import Store
from .waha_api import waha_blueprint
from .waha_errors import waha_error_for
from .webhooks import WebhookDispatcher

__all__ = ["Settings", "create_app"]

log = logging.getLogger("chatlabels.access")


@dataclass(frozen=True)
class Settings:
    """How the server was started; what the app needs to know of it."""

    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = None
    max_body_bytes: int = 64 * 1024

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the server (control API allowed unguarded)."""
        return self.host in {"127.0.0.1", "localhost", "::1"} or self.host.startswith("127.")


def create_app(store: Store, settings: Settings | None = None) -> Flask:
    """A Flask app serving ``store`` in every dialect the mock emulates."""
    settings = settings or Settings()
    app = Flask("mock_server")
    app.json.sort_keys = False  # the provider's key order: id, name, color, colorHex
    app.json.ensure_ascii = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    register_error_handlers(app, dialect_error=waha_error_for)
    app.register_blueprint(provider_blueprint(store))
    app.register_blueprint(waha_blueprint(store))
    app.register_blueprint(openapi_blueprint())
    webhooks = WebhookDispatcher()
    store.add_listener(webhooks.on_store_event)
    app.extensions["chatlabels.webhooks"] = webhooks
    app.extensions.setdefault("chatlabels.closers", []).append(webhooks.close)

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        query = redact_query(request.args.items(multi=True))
        log.info(
            "%s %s%s %d %.1fms",
            request.method,
            request.path,
            f"?{query}" if query else "",
            response.status_code,
            elapsed_ms,
        )
        return response

    return app
