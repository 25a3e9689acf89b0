"""The dashboard at ``/__admin/``: static HTML, CSS and JavaScript shipped in the package.

No build step and no request to any other host: the page reads the control API of the mock
that served it, and a strict Content-Security-Policy says so to the browser. The files hold
no data and no secret (the palette aside), so with an admin token set they are served without
it: the page asks for the token and sends it in ``X-Admin-Token`` on every call it makes.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Response

from chatlabels.contract.schemas import PALETTE

__all__ = ["ASSETS", "dashboard_response"]

_HERE = Path(__file__).resolve().parent

#: Files the dashboard route serves, by name, with their media types.
ASSETS = {
    "index.html": "text/html",
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}

#: Everything from this origin, nothing inline, no frames, no forms posted elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def dashboard_response(name: str) -> Response:
    """One of the dashboard's files, with headers that keep it to its own origin."""
    text = (_HERE / name).read_text("utf-8")
    if name == "index.html":
        # The palette rides in a JSON data block, so the page and the schemas never disagree.
        text = text.replace("__PALETTE__", json.dumps(list(PALETTE)))
    response = Response(text, mimetype=ASSETS[name])
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
