"""Targets that misbehave below HTTP's politeness: endless or huge bodies, a gzip bomb, a
drip of one byte at a time, a wall of 429s. Raw sockets on 127.0.0.1 (a WSGI server would
buffer or refuse what these send), each connection in its own daemon thread, every loop
bounded by ``stop``, so a test that fails cannot leave a server spinning.
"""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Answers one request: given the request line, the bytes to send, chunk by chunk.
Respond = Callable[[str], Iterator[bytes]]

_JSON_HEAD = "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n"


@contextmanager
def raw_server(respond: Respond) -> Iterator[str]:
    """Serve ``respond`` on a free loopback port; yield the base URL."""
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            try:
                for piece in respond(line):
                    if stop.is_set():
                        return
                    conn.sendall(piece)
            except OSError:
                return  # the kit hung up, as it should on a hostile answer

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def endless_body(_line: str) -> Iterator[bytes]:
    """200 JSON whose array never ends (until 200 MB, a bound for the test's sake)."""
    yield (_JSON_HEAD.format(status="200 OK") + "\r\n").encode() + b"["
    chunk = b"0," * 32768
    for _ in range(200 * 2**20 // len(chunk)):
        yield chunk


def huge_body(_line: str) -> Iterator[bytes]:
    """200 with a declared 100 MB body, sent in full if read."""
    size = 100 * 2**20
    head = _JSON_HEAD.format(status="200 OK") + f"Content-Length: {size}\r\n\r\n"
    yield head.encode() + b"["
    chunk = b" " * 65536
    for _ in range((size - 2) // len(chunk)):
        yield chunk
    yield b" " * ((size - 2) % len(chunk)) + b"]"


@functools.cache
def gzip_bomb() -> bytes:
    """About 300 KB of gzip that inflates to 300 MB of spaces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * 2**20
    data = b"".join(packer.compress(chunk) for _ in range(300))
    return data + packer.flush()


def bomb(_line: str) -> Iterator[bytes]:
    body = gzip_bomb()
    head = _JSON_HEAD.format(status="200 OK")
    yield (head + f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    yield body


def drip(_line: str) -> Iterator[bytes]:
    """A status line, then one header byte every 0.5 s (for 60 s at most)."""
    yield b"HTTP/1.1 200 OK\r\n"
    for _ in range(120):
        time.sleep(0.5)
        yield b"X"


def not_found_html(_line: str) -> Iterator[bytes]:
    body = b"<html><body><h1>404 Not Found</h1></body></html>"
    head = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nConnection: close\r\n"
    yield (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def throttled(retry_after: str) -> Respond:
    """Always 429, with ``Retry-After: retry_after`` ("" for none)."""

    def respond(_line: str) -> Iterator[bytes]:
        body = b'{"status":429,"message":"Too Many Requests","error":"rate_limited"}'
        head = _JSON_HEAD.format(status="429 Too Many Requests")
        if retry_after:
            head += f"Retry-After: {retry_after}\r\n"
        yield (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    return respond


def run_measured(args: list[str], timeout: float = 120) -> tuple[int, str, str, float, int]:
    """Run ``chatlabels ARGS`` in a fresh interpreter: (exit, stdout, stderr, seconds, peak
    resident memory in MiB of that interpreter alone).

    The peak is Linux's VmHWM, the high-water mark of the program's own memory. Not
    ``ru_maxrss``: the child is started by vfork and exec, and Linux then carries this
    test process's peak over into the child's, so a test run late in a big pytest process
    measured pytest (208 MiB) instead of the command.
    """
    code = (
        "import sys\n"
        "from chatlabels.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "with open('/proc/self/status') as status_file:\n"
        "    [kib] = [l.split()[1] for l in status_file if l.startswith('VmHWM:')]\n"
        "sys.stderr.write(f'\\nPEAK_MIB={int(kib) // 1024}\\n')\n"
        "sys.exit(status)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout
    )
    seconds = time.monotonic() - started
    err, _, peak = done.stderr.rpartition("PEAK_MIB=")
    assert peak, done.stderr  # the command ended without a traceback
    return done.returncode, done.stdout, err, seconds, int(peak)


__all__ = [
    "bomb",
    "drip",
    "endless_body",
    "gzip_bomb",
    "huge_body",
    "not_found_html",
    "raw_server",
    "run_measured",
    "throttled",
]
