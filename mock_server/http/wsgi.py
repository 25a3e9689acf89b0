"""The WSGI vocabulary shared by the servers' gate and the app's fast path.

Both read request headers straight from a WSGI environ, before werkzeug builds a request,
and must agree with werkzeug on which environ keys are headers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

__all__ = [
    "CONTENT_KEYS",
    "MAX_SHAPES",
    "HeaderReader",
    "ImmediateAnswer",
    "ImmediateApp",
    "WsgiApp",
    "header_count",
    "is_header_key",
]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: An answer given at once: the status code, the headers, the body. The headers may be the
#: same list for every answer: a server reads them, never changes them.
ImmediateAnswer = tuple[int, list[tuple[str, str]], bytes]
#: A WSGI app's answers that never wait (no sleep, no body to read, no long-held lock):
#: called with the request's environ, it gives the answer, or None having done nothing. A
#: server may run it on a thread that every client depends on, and may leave out of that
#: environ the keys that are the same for every request (``wsgi.version``, ``wsgi.errors``,
#: ``SCRIPT_NAME``, ...), which the full app then gets.
ImmediateApp = Callable[[dict[str, Any]], ImmediateAnswer | None]

#: The environ keys werkzeug turns into request headers besides ``HTTP_*``.
CONTENT_KEYS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
#: Environ key orders whose header keys are kept; beyond, the kept ones are forgotten (a
#: client sending new header names on every request costs a full scan each time, never
#: unbounded memory).
MAX_SHAPES = 256


def is_header_key(key: str) -> bool:
    """Whether werkzeug reads ``key`` as a request header (a ``CONTENT_*`` one only when
    its value is not empty)."""
    return key[:5] == "HTTP_" or key in CONTENT_KEYS


def header_count(environ: dict[str, Any]) -> int:
    """The request's header fields as werkzeug reads them: every ``HTTP_*`` key, and a
    ``CONTENT_*`` key when its value is not empty."""
    return sum(
        1 for key, value in environ.items() if key[:5] == "HTTP_" or (value and key in CONTENT_KEYS)
    )


class HeaderReader:
    """Reads an environ's headers, quickly when its keys come as an earlier environ's did.

    Testing every environ key on every request cost about a quarter of a hot read. But a
    client sends the same header names, in the same order, request after request, so the
    environ's keys repeat: which of them are headers is worked out once per key order, and
    then read with one ``itemgetter`` call.
    """

    def __init__(self) -> None:
        #: key order -> (its header keys, their getter, the length of their names)
        self._shapes: dict[tuple[str, ...], tuple[tuple[str, ...], Any, int]] = {}

    def __call__(self, environ: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], int]:
        """The header keys, in the environ's order (werkzeug's), their values, and the
        total length of the keys (kept apart: a dict of them costs more than a hot read's
        answer, and is built only if the journal entry is read)."""
        order = tuple(environ)
        shape = self._shapes.get(order)
        if shape is None:
            shape = self._learn(order)
        keys, getter, key_chars = shape
        return keys, getter(environ), key_chars

    def _learn(self, order: tuple[str, ...]) -> tuple[tuple[str, ...], Any, int]:
        # an empty CONTENT_* key is kept: werkzeug drops it when the entry is built
        keys = tuple(k for k in order if is_header_key(k))
        getter: Callable[[dict[str, Any]], tuple[str, ...]]
        if len(keys) >= 2:
            getter = itemgetter(*keys)
        else:  # itemgetter of one key gives the value itself, of none is an error
            getter = lambda environ: tuple(environ[k] for k in keys)  # noqa: E731
        shape = (keys, getter, sum(map(len, keys)))
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[order] = shape
        return shape

    def __len__(self) -> int:
        """How many key orders are kept (at most ``MAX_SHAPES``)."""
        return len(self._shapes)
