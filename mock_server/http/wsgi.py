"""The WSGI vocabulary shared by the servers' gate and the app's fast path.

Both read request headers straight from a WSGI environ, before werkzeug builds a request,
and must agree with werkzeug on which environ keys are headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["CONTENT_KEYS", "WsgiApp", "header_items"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The environ keys werkzeug turns into request headers besides ``HTTP_*``.
CONTENT_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def header_items(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ's header keys and values, in the environ's order (werkzeug's order)."""
    return {k: v for k, v in environ.items() if k[:5] == "HTTP_" or k in CONTENT_KEYS}
