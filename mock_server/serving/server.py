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
import time
from pathlib import Path
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from chatlabels.mock.app import Settings, app_state, create_app, error_dialect
from chatlabels.mock.http.logs import configure_logging
from chatlabels.mock.limits import DEFAULT_JOURNAL_SIZE, ServerLimits
from chatlabels.mock.serving.protocol import limit_server
from chatlabels.mock.serving.watch import FixtureWatcher
from chatlabels.mock.state.store import Store

__all__ = ["MockServer", "WaitressThread", "serve"]

log = logging.getLogger("chatlabels")


class WaitressThread:
    """Any WSGI app on waitress, on a real socket, served by a background thread.

    The socket listens as soon as this is built (port 0 picks a free one), so ``url`` is
    usable before ``start()``. ``stop()`` is safe with requests in flight.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        limits: ServerLimits | None = None,
    ):
        limits = limits or ServerLimits()
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="chatlabels",
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
            # A backstop: protocol.limit_server closes idle connections before this is hit.
            connection_limit=limits.max_connections + 16,
            channel_timeout=limits.idle_timeout,
            cleanup_interval=1,  # how often timeouts are checked
            max_request_header_size=limits.max_header_bytes,
            max_request_body_size=limits.max_admin_body_bytes + 1,
            asyncore_use_poll=True,  # select() fails beyond descriptor 1023
        )
        self._listeners = [s for s in self._server._map.values() if isinstance(s, BaseWSGIServer)]
        for listener in self._listeners:
            limit_server(listener, limits, error_dialect)
        self.host = host
        self.port: int = self._server.effective_port
        self._thread: threading.Thread | None = None
        self._loop_done = threading.Event()
        self._loop_done.set()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until ``stop()`` (from another thread)."""
        self._loop_done.clear()
        try:
            self._server.run()
        finally:
            self._loop_done.set()

    def start(self) -> None:
        self._loop_done.clear()
        self._thread = threading.Thread(target=self.run, name="chatlabels", daemon=True)
        self._thread.start()

    def drain(self, grace: float) -> bool:
        """Stop accepting and close idle connections, then wait up to ``grace`` seconds for
        the requests in flight to be answered; False when some were not."""

        def stop_listening() -> None:
            for listener in self._listeners:
                # Not listener.close(): waitress's also closes the trigger the loop needs.
                wasyncore.dispatcher.close(listener)
                for channel in list(listener.active_channels.values()):
                    if not channel.requests:
                        channel.will_close = True

        if not self._loop_done.is_set():
            self._server.trigger.pull_trigger(stop_listening)
        deadline = time.monotonic() + grace
        while self._busy():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _busy(self) -> bool:
        tasks = self._server.task_dispatcher
        with tasks.lock:
            if tasks.active_count or tasks.queue:
                return True
        channels = [c for listener in self._listeners for c in listener.active_channels.values()]
        return any(c.requests or c.total_outbufs_len for c in channels)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Close every connection and the listener, stop the worker threads (waiting up to
        ``timeout`` seconds for requests in flight)."""
        server = self._server
        # In-flight requests finish first, while the loop and its trigger still run: a
        # worker thread that outlived the loop would write to a closed (or reused) trigger.
        server.task_dispatcher.shutdown(timeout=timeout)
        if not self._loop_done.is_set():
            try:
                # Close the sockets from inside the event loop, so it exits instead of
                # polling descriptors closed under it by another thread.
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            except OSError:
                pass  # the trigger is gone already (seen under load): close from here
            else:
                self._loop_done.wait(timeout=5)
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
            host=host, admin_token=admin_token, journal_size=journal_size, **options
        )
        self.app = create_app(self.store, settings)
        self._serving = WaitressThread(
            self.app, host=host, port=port, threads=threads, limits=settings.limits
        )
        self.host = host
        self.port = self._serving.port
        self.url = self._serving.url
        self._closed = False

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

    def stop(self, *, timeout: float = 5.0) -> None:
        self._serving.stop(timeout=timeout)
        self._close_app()

    def drain(self, grace: float) -> bool:
        """The graceful stop's first half: no new connections, requests in flight get up to
        ``grace`` seconds to be answered; False when some were not (``stop()`` follows)."""
        return self._serving.drain(grace)

    @property
    def running(self) -> bool:
        return self._serving.running

    def _close_app(self) -> None:
        if not self._closed:
            self._closed = True
            app_state(self.app).close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_room_for(connections: int) -> None:
    """Raise this process's open-files limit to fit ``connections`` sockets, if allowed."""
    try:
        import resource
    except ImportError:  # not on this system (Windows): its own limits apply
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 64  # the listener, the trigger, fixture and log files
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(
    fixture: dict[str, Any],
    *,
    host: str,
    port: int,
    threads: int,
    admin_token: str | None,
    quiet: bool,
    log_format: str,
    log_level: str | None,
    options: dict[str, Any],
    watch: Path | None,
    watch_interval: float,
) -> int:
    """Run ``chatlabels serve`` in the foreground until SIGINT or SIGTERM; with ``watch``,
    reload that fixture file whenever it changes."""
    configure_logging(log_format=log_format, level=log_level or ("warning" if quiet else "info"))
    limits = options.get("limits") or ServerLimits()
    _make_room_for(limits.max_connections)
    try:
        server = MockServer(
            fixture, host=host, port=port, threads=threads, admin_token=admin_token, **options
        )
    except OSError as exc:
        print(f"chatlabels: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    grace = app_state(server.app).settings.limits.grace_seconds
    stopping = threading.Event()

    def graceful() -> None:
        if not server.drain(grace):
            log.warning("chatlabels: grace period of %s s over, requests in flight cut off", grace)
        server.stop(timeout=0.5)

    stopper = threading.Thread(target=graceful, name="chatlabels-stop", daemon=True)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # The loop keeps running in this (main) thread while another one drains it.
        if stopping.is_set():  # a second signal: stop now
            threading.Thread(target=server.stop, kwargs={"timeout": 0}, daemon=True).start()
            return
        stopping.set()
        log.info("chatlabels stopping: requests in flight get up to %s s", grace)
        stopper.start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    watcher = None
    if watch is not None:
        watcher = FixtureWatcher(watch, app_state(server.app).control, interval=watch_interval)
        watcher.start()
    print(f"chatlabels serving on {server.url}", flush=True)
    server.serve_forever()
    if stopper.is_alive():
        stopper.join(timeout=5)
    if watcher is not None:
        watcher.stop()
    log.info("chatlabels stopped")
    return 0
