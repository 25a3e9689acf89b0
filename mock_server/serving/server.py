"""Serving the app: one process, one consistent state, on one of two HTTP servers.

State lives in one in-process ``Store``, so the server runs in the mock's own process, on
threads. Two servers can carry it (measured in bench/README.md):

- granian (granian_server.py), the default of ``chatlabels serve``: a Rust HTTP core, about
  ten times waitress's throughput (bench/README.md); it cannot drop a connection without answering;
- waitress (waitress_server.py): pure Python, every fault kind, malformed HTTP answered in
  JSON; the pytest plugin's and ``MockServer``'s default.

``choose_server`` picks granian unless the fixture needs what only waitress does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from chatlabels.mock.app import Settings, app_state, create_app
from chatlabels.mock.control.faults import FaultRules
from chatlabels.mock.http.fast_path import FastPath
from chatlabels.mock.http.logs import configure_logging
from chatlabels.mock.limits import DEFAULT_JOURNAL_SIZE, DEFAULT_MAX_LONG_POLLS, ServerLimits
from chatlabels.mock.serving.granian_server import GranianThread
from chatlabels.mock.serving.waitress_server import WaitressThread
from chatlabels.mock.serving.watch import FixtureWatcher
from chatlabels.mock.state.store import Store

__all__ = ["SERVERS", "MockServer", "choose_server", "serve"]

#: ``--threads`` when not given: the threads that run the app (on granian, for what its own
#: thread does not answer at once: hot reads never wait for them).
DEFAULT_THREADS = 8

#: The HTTP servers a mock can run on, by their ``--server`` name.
SERVERS = ("granian", "waitress")


def choose_server(name: str, fixture: dict[str, Any]) -> str:
    """``name``, or for ``auto`` granian unless a fault rule of ``fixture`` drops a
    connection (which only waitress can do)."""
    if name != "auto":
        return name
    drops = any(rule.get("drop_connection") for rule in fixture.get("faults", []))
    return "waitress" if drops else "granian"


log = logging.getLogger("chatlabels")


class MockServer:
    """A mock listening on a real socket: its store, its app and its HTTP server.

    Used by ``chatlabels serve`` (in the foreground) and by tests and the pytest plugin
    (in a background thread, ``start()`` / ``stop()``).
    """

    def __init__(
        self,
        fixture: dict[str, Any],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int | None = None,
        admin_token: str | None = None,
        journal_size: int = DEFAULT_JOURNAL_SIZE,
        server: str = "waitress",
        **options: Any,
    ) -> None:
        """``server`` names one of ``SERVERS``, ``threads`` defaults to
        ``DEFAULT_THREADS``; ``options`` are the other ``Settings`` fields (``public_hosts``,
        long-poll caps)."""
        if server not in SERVERS:
            raise ValueError(f"server {server!r} is none of {', '.join(SERVERS)}")
        threads = threads or DEFAULT_THREADS
        # A long-poll holds a thread; one is always left for the API.
        polls = options.get("max_long_polls", DEFAULT_MAX_LONG_POLLS)
        options["max_long_polls"] = max(1, min(polls, threads - 1))
        self.store = Store(fixture)
        settings = Settings(
            host=host,
            admin_token=admin_token,
            journal_size=journal_size,
            can_drop_connections=server == "waitress",
            **options,
        )
        self.app = create_app(self.store, settings)
        self.server_name = server
        if server == "granian":
            wsgi = self.app.wsgi_app
            immediate = wsgi.answer_now if isinstance(wsgi, FastPath) else None
            self._serving: GranianThread | WaitressThread = GranianThread(
                self.app,
                host=host,
                port=port,
                threads=threads,
                limits=settings.limits,
                immediate=immediate,
            )
        else:
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
        ``grace`` seconds to be answered; False when some were not (``stop()`` follows).
        Long-polls answer at once (not satisfied): they would only hold the stop."""
        app_state(self.app).control.webhooks.release_waiters()
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
    threads: int | None,
    server_name: str = "auto",
    admin_token: str | None,
    quiet: bool,
    log_format: str,
    log_level: str | None,
    options: dict[str, Any],
    watch: Path | None,
    watch_interval: float,
) -> int:
    """Run ``chatlabels serve`` in the foreground until SIGINT or SIGTERM; with ``watch``,
    reload that fixture file whenever it changes. ``server_name``: ``--server``."""
    chosen = choose_server(server_name, fixture)
    if chosen == "granian":
        problems = FaultRules(can_drop=False).unsupported(fixture.get("faults", []), at="/faults")
        for pointer, reason in problems[:1]:
            print(
                f"chatlabels serve: --server granian: fixture {pointer}: {reason}", file=sys.stderr
            )
            return 2
    configure_logging(log_format=log_format, level=log_level or ("warning" if quiet else "info"))
    limits = options.get("limits") or ServerLimits()
    _make_room_for(limits.max_connections)
    try:
        server = MockServer(
            fixture,
            host=host,
            port=port,
            threads=threads,
            server=chosen,
            admin_token=admin_token,
            **options,
        )
    except OSError as exc:
        # the system's words only: socket.create_server appends a Python repr of the address
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"chatlabels: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 2

    grace = app_state(server.app).settings.limits.grace_seconds
    # The handler only writes a byte: it runs in the main thread between any two bytecodes,
    # even inside a lock the main thread holds (an Event's, logging's), so taking any lock
    # there can deadlock the process when signals come close together. A thread of its own
    # reads the bytes and stops the server: the first gracefully, a second one at once.
    wake_read, wake_write = os.pipe()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):
            os.write(wake_write, b"!")

    def stop_on_signals() -> None:
        os.read(wake_read, 1)
        log.info("stopping: requests in flight get up to %s s", grace)
        threading.Thread(target=graceful, name="chatlabels-drain", daemon=True).start()
        os.read(wake_read, 1)
        log.warning("a second signal, stopping now: requests in flight cut off")
        _end_process_now()  # not a second stop racing the first: the process ends here

    def graceful() -> None:
        if not server.drain(grace):
            log.warning("grace period of %s s over, requests in flight cut off", grace)
        server.stop(timeout=0.5)

    stopper = threading.Thread(target=stop_on_signals, name="chatlabels-stop", daemon=True)
    stopper.start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    watcher = None
    if watch is not None:
        watcher = FixtureWatcher(watch, app_state(server.app).control, interval=watch_interval)
        watcher.start()
    log.info("HTTP server %s", chosen)
    print(f"chatlabels serving on {server.url}", flush=True)
    server.serve_forever()
    if watcher is not None:
        watcher.stop()
    log.info("stopped")
    if chosen == "granian":
        _end_process_now()
    return 0


def _end_process_now() -> NoReturn:
    """Exit 0 without the interpreter's shutdown. granian's Rust threads may still be running
    Python (requests the grace period cut off); finalising the interpreter under them makes
    granian panic and abort the process. Everything worth keeping is written first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
