"""Serving on granian's Rust HTTP core, in this process: the fast server.

Why granian: on these machines it answers the mock's hot reads about ten times faster than
waitress (bench/README.md), because connections, parsing and writing happen in Rust threads
and Python runs only the app. Why not its ``Granian(...).serve()``: that forks a worker
process per app, binds port 0 without telling which port it got, and takes over the main
thread's signals. Here its worker is driven directly instead, on a socket bound by us:
the app and its one ``Store`` stay in this process, the real port is known before the
ready line, and the server starts and stops from any thread (tests, the pytest plugin).

One Python thread, granian's, takes every request; it must never wait, since every client
waits behind it. It answers on the spot what the app can answer without waiting (the
app's ``ImmediateApp``: the hot reads, decided before Flask). Everything else (Flask's
path, where a fault rule sleeps, a long-poll waits, a body is read) goes to ``threads``
worker threads, which answer through granian's protocol object once done: granian sends an
answer whenever it is given, not when its callback returns, and up to granian 2.8.5 a
worker can still read the request body then (2.8.6 lets go of it when the callback
returns, hence pyproject.toml's bound). Why not granian's own pool of
Python threads: once two of them have work, handing the GIL between them cost about 15 %
of the server's CPU on every request, and its second thread starts whenever requests
queue, which at 16 connections is always (bench/README.md).

Those are granian internals (``WSGIWorker``, ``SocketHolder``, ``WorkerSignal``, and the
protocol object answering after the callback), so pyproject.toml pins granian's version;
``tests/mock_server/serving/test_granian_server.py`` exercises every part used. What granian
cannot do, ``--server waitress`` does: drop a connection without an answer (a fault rule),
answer malformed HTTP in JSON.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from granian._granian import SocketHolder, WorkerSignal, WSGIWorker
from granian.http import HTTP1Settings

from chatlabels.mock.app import error_dialect
from chatlabels.mock.http.wsgi import ImmediateApp, WsgiApp
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.request_gate import RequestGate

__all__ = ["GranianThread"]

#: Connections waiting to be accepted by the kernel.
_BACKLOG = 1024
#: Rust threads doing I/O; one is plenty for one Python process (granian's default).
_IO_THREADS = 1
#: Rust threads for blocking I/O (granian's default; created only when needed).
_IO_BLOCKING_THREADS = 512
#: granian's own Python threads: one, the front thread (see above).
_FRONT_THREADS = 1
#: Seconds granian's pool keeps an idle Python thread (required; its runner for one thread
#: keeps that thread for good).
_THREAD_IDLE_SECONDS = 30

log = logging.getLogger("chatlabels")


def _base_environ() -> dict[str, Any]:
    """What every request's environ holds besides granian's scope.

    granian's own wrapper copies ``os.environ`` into each environ, so a variable such as
    ``HTTP_PROXY`` in the server's environment would read as a request header (httpoxy);
    this one holds only what WSGI requires.
    """
    return {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SCRIPT_NAME": "",
        "SERVER_SOFTWARE": "chatlabels",
        "wsgi.errors": sys.stderr,
        "wsgi.input_terminated": True,
        "wsgi.multiprocess": False,
        "wsgi.multithread": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


class _StartResponse:
    """WSGI's ``start_response``, keeping what granian needs: the status code, the headers."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status = 200
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = int(status.split(" ", 1)[0])
        self.headers = headers


class _BodyIterator:
    """A streamed body as granian reads it: a ``__next__`` attribute, and ``close``."""

    __slots__ = ("__next__", "_body")

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self.__next__ = iter(body).__next__

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def _respond(proto: Any, started: _StartResponse, body: Iterable[bytes]) -> None:
    if isinstance(body, list):
        proto.response_bytes(started.status, started.headers, b"".join(body))
    else:
        proto.response_iter(started.status, started.headers, _BodyIterator(body))


class _Workers:
    """``size`` daemon threads running queued calls in arrival order.

    Daemon threads, so that a call still sleeping in a fault rule's latency when the mock
    stops does not hold the interpreter's exit (``concurrent.futures`` joins its threads at
    exit). The queue needs no bound of its own: each request in it holds one of granian's
    connections, and those are at most ``_BACKLOG``.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._calls: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(1, self._size + 1):
            thread = threading.Thread(
                target=self._run, name=f"chatlabels-worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, call: Callable[[], None]) -> None:
        self._calls.put(call)

    def stop(self) -> None:
        """Let each thread end after the calls queued before this one."""
        for _ in self._threads:
            self._calls.put(None)
        self._threads.clear()

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            call()
            # Let the request go now (its body stream holds the connection), not when the
            # next call arrives.
            del call


class GranianThread:
    """Any WSGI app on granian, on a real socket, in this process.

    The socket listens as soon as this is built (port 0 picks a free one), so ``url`` is
    usable before ``start()``; requests wait in the backlog until then. ``drain`` and
    ``stop`` let requests in flight finish (granian stops accepting at once). ``immediate``
    answers on granian's thread what it can without waiting; ``threads`` worker threads run
    ``app`` for the rest.
    """

    def __init__(
        self,
        app: WsgiApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        limits: ServerLimits | None = None,
        immediate: ImmediateApp | None = None,
    ) -> None:
        limits = limits or ServerLimits()
        gate = RequestGate(app, limits, error_dialect)  # what waitress bounds before the app
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family, backlog=_BACKLOG)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        base = _base_environ()

        workers = self._workers = _Workers(threads)

        def answer(proto: Any, environ: dict[str, Any]) -> None:
            """One request, as granian's own WSGI wrapper runs it (minus ``os.environ``)."""
            started = _StartResponse()
            try:
                _respond(proto, started, gate(environ, started))
            except Exception as error:  # granian's answer to an app that raised
                method = environ.get("REQUEST_METHOD")
                log.error("the app raised %s answering a %s request", type(error).__name__, method)
                proto.response_bytes(500, [], b"")  # nothing, if an answer went already

        def call(proto: Any, scope: dict[str, Any]) -> None:
            """Called by granian on its thread, for every request: answered here when that
            cannot wait, else handed to a worker thread. The answer given here reads
            granian's scope as it is: what ``base`` adds is the same for every request."""
            if immediate is not None and gate.passes_at_once(scope):
                given = immediate(scope)
                if given is not None:
                    proto.response_bytes(*given)
                    return
            environ = base | scope
            workers.submit(lambda: answer(proto, environ))

        # One timer in granian covers both a connection idle between requests and a request
        # head arriving too slowly: the shorter of the two bounds applies to both.
        head_timeout = min(limits.idle_timeout, limits.request_timeout)
        http1 = HTTP1Settings(
            header_read_timeout=max(1, int(head_timeout * 1000)),
            keep_alive=True,
            # granian's least; a smaller --max-header-bytes is checked by RequestGate
            max_buffer_size=max(8192, limits.max_header_bytes),
        )
        # Its .pyi lags the extension (no ``ipc``): called by keyword, typed as Any.
        worker_class: Any = WSGIWorker
        holder_class: Any = SocketHolder
        self._worker = worker_class(
            worker_id=1,
            # granian owns the descriptor from here, and closes it when the worker goes
            sock=(None, holder_class(self._socket.detach(), False, _BACKLOG)),
            ipc=None,
            threads=_IO_THREADS,
            blocking_threads=_IO_BLOCKING_THREADS,
            py_threads=_FRONT_THREADS,
            py_threads_idle_timeout=_THREAD_IDLE_SECONDS,
            # connections served at once (a permit per accepted connection, held until it
            # closes): so also the most requests waiting for a worker thread
            backpressure=_BACKLOG,
            http_mode="1",
            http1_opts=http1,
        )
        self._call = call
        self._stop_signal = WorkerSignal()
        self._stopped = threading.Event()
        self._stop_signal.add_cb(self._stopped.set)  # called once in-flight requests are done
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signalled = False
        self._signal_lock = threading.Lock()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Serve from granian's own threads; returns at once."""
        from granian._futures import _new_cbscheduler

        # Required by the scheduler, never run by a WSGI worker. Not granian's own loop
        # builder: that one also makes it the calling thread's current loop.
        loop = self._loop = asyncio.new_event_loop()
        scheduler = _new_cbscheduler(loop, self._call, impl_asyncio=True)  # type: ignore[no-untyped-call]
        with self._signal_lock:
            self._workers.start()
            self._worker.serve_mtr(scheduler, loop, self._stop_signal)
            self._started = True

    def run(self) -> None:
        """Serve until ``stop()`` or ``drain()`` (from another thread or a signal handler)."""
        self.start()
        while not self._stopped.wait(0.2):  # short waits: signal handlers run in between
            pass

    def drain(self, grace: float) -> bool:
        """Stop accepting, then wait up to ``grace`` seconds for the requests in flight to
        be answered; False when some were not."""
        with self._signal_lock:
            if not self._started:
                self._stopped.set()
                return True
            if not self._signalled:
                # Once only: a second set() blocks in granian, holding the GIL.
                self._signalled = True
                self._stop_signal.set()
        return self._stopped.wait(grace)

    def stop(self, *, timeout: float = 5.0) -> None:
        """Stop, waiting up to ``timeout`` seconds for requests in flight (safe to call
        again, and from two threads at once)."""
        self.drain(timeout)
        with self._signal_lock:
            self._stopped.set()
            loop, self._loop = self._loop, None
            self._workers.stop()
        if loop is not None:
            loop.close()

    @property
    def running(self) -> bool:
        return self._started and not self._stopped.is_set()
