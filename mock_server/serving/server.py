"""Serving the app: waitress, one process, many threads, one consistent state.

Why waitress: it was measured against cheroot, gunicorn, granian and Werkzeug on these
machines (see bench/README.md). State lives in one in-process ``Store`` behind one lock, so
the server must be a single process; among single-process servers waitress gave the best
throughput and p99, binds port 0 and reports the real port, accepts an app object rather
than an import string, and can run inside a test process in a background thread.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from chatlabels.mock.app import Settings, app_state, create_app
from chatlabels.mock.limits import DEFAULT_JOURNAL_SIZE
from chatlabels.mock.serving.watch import FixtureWatcher
from chatlabels.mock.state.store import Store

__all__ = ["MockServer", "WaitressThread", "serve"]

log = logging.getLogger("chatlabels")


class WaitressThread:
    """Any WSGI app on waitress, on a real socket, served by a background thread.

    The socket listens as soon as this is built (port 0 picks a free one), so ``url`` is
    usable before ``start()``. ``stop()`` is safe with requests in flight.
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, threads: int = 8):
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="chatlabels",
            clear_untrusted_proxy_headers=True,
            channel_timeout=30,
            expose_tracebacks=False,
        )
        self.host = host
        self.port: int = self._server.effective_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until SystemExit or KeyboardInterrupt."""
        self._server.run()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="chatlabels", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every connection and the listener, stop the worker threads."""
        server = self._server
        # In-flight requests finish first, while the loop and its trigger still run: a
        # worker thread that outlived the loop would write to a closed (or reused) trigger.
        server.task_dispatcher.shutdown()
        if self._thread is not None and self._thread.is_alive():
            try:
                # Close the sockets from inside the event loop, so it exits instead of
                # polling descriptors closed under it by another thread.
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            except OSError:
                pass  # the trigger is gone already (seen under load): close from here
            else:
                self._thread.join(timeout=5)
        if server._map:
            wasyncore.close_all(server._map)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class MockServer:
    """A mock listening on a real socket: its store, its app and the waitress server.

    Used by ``chatlabels serve`` (in the foreground) and by tests and the pytest plugin
    (in a background thread, ``start()`` / ``stop()``).
    """

    def __init__(
        self,
        fixture: dict[str, Any],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        admin_token: str | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        **options: Any,
    ) -> None:
        """``options`` are the other ``Settings`` fields (``public_hosts``, long-poll caps)."""
        self.store = Store(fixture)
        settings = Settings(
            host=host, port=port, admin_token=admin_token, journal_size=journal_size, **options
        )
        self.app = create_app(self.store, settings)
        self._serving = WaitressThread(self.app, host=host, port=port, threads=threads)
        self.host = host
        self.port = self._serving.port
        self.url = self._serving.url

    def serve_forever(self) -> None:
        """Answer requests until SystemExit or KeyboardInterrupt, then shut down."""
        try:
            self._serving.run()
        finally:
            self._close_app()

    def start(self) -> MockServer:
        """Serve in a daemon thread; the socket already listens, so it is usable at once."""
        self._serving.start()
        return self

    def stop(self) -> None:
        self._serving.stop()
        self._close_app()

    @property
    def running(self) -> bool:
        return self._serving.running

    def _close_app(self) -> None:
        app_state(self.app).close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    fixture: dict[str, Any],
    *,
    host: str,
    port: int,
    threads: int,
    admin_token: str | None,
    quiet: bool,
    options: dict[str, Any],
    watch: Path | None,
    watch_interval: float,
) -> int:
    """Run ``chatlabels serve`` in the foreground until SIGINT or SIGTERM; with ``watch``,
    reload that fixture file whenever it changes."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("waitress").setLevel(logging.WARNING)
    try:
        server = MockServer(
            fixture, host=host, port=port, threads=threads, admin_token=admin_token, **options
        )
    except OSError as exc:
        print(f"chatlabels: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher = None
    if watch is not None:
        watcher = FixtureWatcher(watch, app_state(server.app).control, interval=watch_interval)
        watcher.start()
    print(f"chatlabels serving on {server.url}", flush=True)
    with contextlib.suppress(SystemExit):
        server.serve_forever()
    if watcher is not None:
        watcher.stop()
    log.info("chatlabels stopped")
    return 0
