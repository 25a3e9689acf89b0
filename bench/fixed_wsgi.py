"""The Python ceiling: the bench's body on chatlabels' own granian server (same bounds),
answered on granian's thread as the mock's hot reads are (``fixed_answer``, an immediate
answer; the WSGI callable ``fixed_body`` for anything handed to a worker), with no work of
its own.

No Python app on this server can answer faster, so ``chatlabels serve``'s distance to this
row is what the mock's own work costs, and this row's distance to WireMock is the most any
Python mock could gain here. Usage: ``python bench/fixed_wsgi.py PORT`` (until SIGTERM).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from targets import BODY

from chatlabels.mock.serving.granian_server import GranianThread
from chatlabels.mock.serving.server import DEFAULT_THREADS

_BODY = BODY.encode()
_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]


def fixed_body(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", list(_HEADERS))
    return [_BODY]


def fixed_answer(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, _HEADERS, _BODY


def main() -> None:
    port = int(sys.argv[1])
    server = GranianThread(fixed_body, port=port, threads=DEFAULT_THREADS, immediate=fixed_answer)
    server.run()  # SIGTERM's default action ends the process


if __name__ == "__main__":
    main()
