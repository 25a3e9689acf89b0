"""One HTTP exchange, bounded in time and size whatever the target does.

``requests`` bounds each socket read, not a request: a target dripping a byte every two
seconds kept a 5 s timeout waiting forever, and it read whole bodies (and decompressed them)
into memory. Here a request has one deadline covering connect, headers and the whole body,
enforced by a watchdog that shuts the socket down when it passes; the body is read in
chunks up to ``max_body`` bytes, and decompressed (gzip, deflate) up to the same cap, so a
gzip bomb costs no more than a plain body. Redirects are never followed: http.client does
not, which keeps the token home.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chatlabels.kit.bounds import DEFAULT_MAX_BODY

__all__ = ["Connection", "NoAnswer", "Raw", "Unreachable"]


_CHUNK = 64 * 1024


class Unreachable(Exception):
    """No connection could be made (DNS, refused, TLS); ``str()`` says which."""


class NoAnswer(Exception):
    """The connection was made but no whole answer came: ``timed_out`` if the deadline
    passed, else the answer broke off (``str()`` says how)."""

    def __init__(self, reason: str = "", *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass
class Raw:
    """What came back: the status, headers (lower-case names) and the body as decoded.

    ``problem`` says why the body is not what the headers promised (larger than the cap,
    a ``Content-Encoding`` it is not encoded in); ``body`` is then what could be read.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    problem: str | None = None


@dataclass
class Connection:
    """A kept-alive connection to one origin; ``fetch`` reopens it when needed."""

    base_url: str
    verify: bool = True
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def fetch(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str],
        body: bytes | None,
        deadline: float,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> Raw:
        """Send one request (``target`` is the encoded path and query) and read the answer
        by ``deadline`` (a ``time.monotonic()`` value); raise ``Unreachable`` or ``NoAnswer``.
        A kept-alive connection the server closed meanwhile is retried once, fresh."""
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                return self._fetch_once(method, target, headers, body, deadline, max_body)
            except _Stale:
                self.close()
                if not reused or attempt == 2:
                    raise NoAnswer("the connection closed before an answer came") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self, deadline: float) -> http.client.HTTPConnection:
        if self._conn is not None:
            return self._conn
        remaining = max(deadline - time.monotonic(), 0.001)
        conn: http.client.HTTPConnection
        if self._https:
            context = ssl.create_default_context()
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=remaining, context=context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=remaining)
        try:
            conn.connect()
        except ssl.SSLError as exc:
            raise Unreachable(f"TLS error: {exc.reason or exc}") from None
        except socket.gaierror as exc:
            raise Unreachable(f"cannot resolve {self._host!r} (DNS: {exc.strerror})") from None
        except TimeoutError:
            raise Unreachable(f"no connection within {remaining:.3g}s") from None
        except OSError as exc:
            raise Unreachable(exc.strerror or str(exc)) from None
        self._conn = conn
        return conn

    def _fetch_once(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        deadline: float,
        max_body: int,
    ) -> Raw:
        started = time.monotonic()
        conn = self._connect(deadline)
        sock = conn.sock
        assert sock is not None
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        expired = threading.Event()

        def cut() -> None:  # the deadline passed: wake whatever read is blocked
            expired.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            try:
                conn.request(method, self._prefix + target, body=body, headers=headers)
                response = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if expired.is_set():
                    raise TimeoutError from None
                raise _Stale from None
            raw = _read(response, started, max_body, expired)
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            if expired.is_set() or isinstance(exc, TimeoutError):
                raise NoAnswer(timed_out=True) from None
            raise NoAnswer(f"the answer broke off ({type(exc).__name__})") from None
        finally:
            watchdog.cancel()
        if raw.problem or response.will_close:
            self.close()
        return raw


class _Stale(Exception):
    """A kept-alive connection was closed by the server before it answered."""


def _read(
    response: http.client.HTTPResponse, started: float, cap: int, expired: threading.Event
) -> Raw:
    headers = {name.lower(): value for name, value in response.getheaders()}
    encoding = headers.get("content-encoding", "identity").strip().lower()
    decoder = _decoder(encoding)
    wire = bytearray()
    out = bytearray()
    problem = None
    while True:
        chunk = response.read1(_CHUNK)
        if expired.is_set():
            raise TimeoutError
        if not chunk:
            break
        wire += chunk
        if decoder is None:
            out += chunk
        elif problem is None:
            try:
                out += decoder.decompress(chunk, cap + 1 - len(out))
                while decoder.unconsumed_tail and len(out) <= cap:
                    out += decoder.decompress(decoder.unconsumed_tail, cap + 1 - len(out))
            except zlib.error:
                problem = f"Content-Encoding {encoding}, but the body is not {encoding} data"
        if len(out) > cap or len(wire) > cap:
            problem = f"a body larger than {cap} bytes (--max-body); reading stopped there"
            break
    response.close()  # read whole: frees the connection for the next request
    if encoding not in {"identity", "", "gzip", "x-gzip", "deflate"}:
        problem = f"Content-Encoding {encoding}, which the kit did not ask for"
    body = bytes(out[:cap]) if problem is None or out else bytes(wire[:cap])
    return Raw(response.status, headers, body, time.monotonic() - started, problem)


def _decoder(encoding: str) -> zlib._Decompress | None:
    if encoding in {"gzip", "x-gzip"}:
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib-wrapped (RFC 9110) or gzip
    return None
