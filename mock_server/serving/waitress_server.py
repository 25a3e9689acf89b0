"""Serving on waitress: the server that can do everything, in pure Python.

waitress reads whole requests on its event loop and hands them to worker threads, which lets
the mock bound every connection (serving/protocol.py), answer malformed HTTP in JSON, and
drop a connection without an answer when a fault rule says so. It is the server of the
pytest plugin and of ``chatlabels serve --server waitress``; granian (granian_server.py)
is faster and the default where it can do what the fixture asks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from chatlabels.mock.app import error_dialect
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.protocol import limit_server

__all__ = ["WaitressThread"]


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
            limit_server(listener, limits, error_dialect, app)
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
