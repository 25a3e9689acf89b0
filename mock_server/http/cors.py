"""CORS as WAHA serves it, so a browser page on another origin can call the mock.

WAHA calls NestJS's ``app.enableCors()`` with no options (``src/main.ts`` l.87 at WAHA
2025.10.4, the same in every version checked), i.e. the npm ``cors`` 2.8.5 middleware with its
defaults, mounted before everything else (body parser, API-key check, routes):

- any ``OPTIONS`` request is a preflight, answered at once, without a key: 204, empty body,
  ``Access-Control-Allow-Origin: *``, ``Access-Control-Allow-Methods:
  GET,HEAD,PUT,PATCH,POST,DELETE``, ``Vary: Access-Control-Request-Headers`` and, only when
  the request names some, ``Access-Control-Allow-Headers`` echoing them (cors
  ``lib/index.js`` l.98-111, l.163-181). cors also sends ``Content-Length: 0``; the mock
  cannot (Werkzeug drops it from every 204, as RFC 9110 section 8.6 asks);
- every other answer, errors included, carries ``Access-Control-Allow-Origin: *``
  (l.182-189), whether or not the request sent an ``Origin``.

The WAHA dialect (``/api/...``) always answers so, as WAHA does. The provider dialect and
``/openapi.json`` answer the same by default (browser dashboards call it) unless the server
was started with ``--no-cors``. ``/__admin/`` never does: it refuses other origins outright.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request

from chatlabels.mock.http.parsed_request import dialect_of

__all__ = ["ALLOWED_METHODS", "Cors"]

#: cors 2.8.5's default ``methods`` (lib/index.js l.10), in its order and spelling.
ALLOWED_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"

_ADMIN_PREFIX = "/__admin"


class Cors:
    """Which answers carry CORS headers, and the hooks that add them.

    ``everywhere`` is ``Settings.cors``: off, only the WAHA dialect keeps them.
    """

    def __init__(self, *, everywhere: bool) -> None:
        self.everywhere = everywhere

    def applies(self, path: str) -> bool:
        """True when the answer to ``path`` carries CORS headers."""
        if path == _ADMIN_PREFIX or path.startswith(_ADMIN_PREFIX + "/"):
            return False
        return self.everywhere or dialect_of(path) == "waha"

    def is_preflight(self, method: str, path: str) -> bool:
        """True for a request ``install`` answers itself (any OPTIONS, as cors does)."""
        return method == "OPTIONS" and self.applies(path)

    def install(self, app: Flask, redact: Callable[[str], str]) -> None:
        """Answer preflights and mark answers, on the paths ``applies`` to; ``redact`` takes
        the known secrets out of the header names a preflight echoes back.

        Install it after the request hooks (which parse the request, and leave a preflight
        alone: no rate limit, no fault rule) and before any blueprint: like WAHA's first
        middleware it answers a preflight before the key check.
        """

        @app.before_request
        def preflight() -> Response | None:
            if not self.is_preflight(request.method, request.path):
                return None
            response = Response(status=204)
            del response.headers["Content-Type"]
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Vary"] = "Access-Control-Request-Headers"
            asked = request.headers.get("Access-Control-Request-Headers")
            if asked:  # echoed, as WAHA does: a secret put there comes back redacted
                response.headers["Access-Control-Allow-Headers"] = redact(asked)
            return response

        @app.after_request
        def allow_origin(response: Response) -> Response:
            if self.applies(request.path):
                response.headers["Access-Control-Allow-Origin"] = "*"
            return response
