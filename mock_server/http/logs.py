"""The mock's log lines, formatted in this one place: text for people, JSON for collectors.

Every request is one ``AccessRecord`` logged on ``chatlabels.access``: it carries the fields
(method, path, query with every secret already replaced by ``[redacted]``, status, duration,
instance, request id) and renders itself as the text line, so a logger nobody configured
(the pytest plugin, a ``MockServer`` in a test) still prints a readable line; the line's
pieces go through the app's ``ValueRedactor`` again once percent-encoded. ``JsonFormatter``
writes any record as one JSON object per line, the access fields at top level; the request id
is the one the journal entry and a 500's message quote, so the three can be joined.

Speed: ``logging`` costs about 30 us a line (a ``LogRecord``, the caller's frame, a lock, a
write and a flush), more than a hot read itself. ``chatlabels serve`` therefore logs through
``BufferedStreamHandler`` (lines gathered and written together, at most ``FLUSH_SECONDS``
late; warnings at once), and ``AccessLog`` hands the hot path's lines straight to it when it
is the only place they go, formatted exactly as ``logging`` would (tests/mock_server/http/
test_logs.py compares both). Anyone else's handler (pytest's, an embedding app's) gets the
record through ``logging`` as before.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import secrets
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote

from chatlabels.contract.value_redaction import NO_SECRETS, ValueRedactor
from chatlabels.mock.http.redaction import REDACTED

__all__ = [
    "ACCESS_LOGGER",
    "FLUSH_SECONDS",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "AccessLog",
    "AccessRecord",
    "BufferedStreamHandler",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "new_request_id",
    "new_request_number",
    "request_id",
]

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")

ACCESS_LOGGER = "chatlabels.access"

#: Characters logged as they are in a path, and in a query name or value; anything else is
#: percent-encoded, so a %0A in a request cannot forge a second log line.
_PATH_SAFE = "/@:+,;=-._~!$&'()*"
_VALUE_SAFE = "/@:+,;-._~!$'()*"


#: A request id is this process's random prefix and the request's number, both in hex:
#: unique within the process and, by the prefix, across runs. The hot path takes a number
#: (a counter) and the id is spelt only where it is shown: the text log line has none, and
#: a hot read's journal entry is built when read.
_ID_PREFIX = f"{secrets.randbits(64):016x}"  # not ``random``: a seeded run must not repeat it
_ID_NUMBERS = itertools.count(1)


def new_request_number() -> int:
    """The next request's number, which ``request_id`` spells."""
    return next(_ID_NUMBERS)  # one C call: atomic under the GIL


def request_id(number: int) -> str:
    """The id of request ``number``: 32 hex digits, quoted by the journal, the log and a 500
    (a correlation id, not a secret)."""
    return f"{_ID_PREFIX}{number:016x}"


def new_request_id() -> str:
    """A fresh request id (``request_id`` of a fresh number)."""
    return request_id(next(_ID_NUMBERS))


#: ``f"{n:03d}"`` for every millisecond: a hot read's text line takes its milliseconds from
#: here (a format specification costs more than a look-up).
_MILLIS = tuple(f"{n:03d}" for n in range(1000))


@dataclass(frozen=True)
class AccessRecord:
    """One request as logged: secrets already redacted by whoever built it."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None  # None: the connection was dropped by a fault rule
    duration_ms: float
    request_id: str
    instance: str | None = None
    #: the error code when the HTTP server refused the request before the app saw it
    refused: str | None = None
    #: the secrets known when it was recorded; not a field of the logged line
    redactor: ValueRedactor = field(default=NO_SECRETS, compare=False, repr=False)

    def fields(self) -> dict[str, Any]:
        """The logged fields (what ``--log-format json`` writes), by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "redactor"}

    def _quote(self, text: str, safe: str) -> str:
        # The fields are redacted already; an encoded piece is redacted again, since
        # encoding can spell a secret the decoded text did not hold: "?Fab..." is logged
        # "%3FFab...", which holds a secret "3FFab...".
        if REDACTED in text:
            return REDACTED.join(self._quote(piece, safe) for piece in text.split(REDACTED))
        quoted = quote(text, safe=safe)
        return quoted if "%" not in quoted else self.redactor.redact(quoted)

    def __str__(self) -> str:
        line = f"{self.head()} {self.duration_ms:.1f}ms"
        return line + (f" (refused before the app: {self.refused})" if self.refused else "")

    def head(self) -> str:
        """The line up to its duration: ``METHOD PATH?QUERY STATUS`` (hot reads cache it)."""
        pairs = [
            f"{self._quote(name, _VALUE_SAFE)}={self._quote(value, _VALUE_SAFE)}"
            for name, values in self.query.items()
            for value in values
        ]
        query = "?" + "&".join(pairs) if pairs else ""
        status = "dropped" if self.status is None else self.status
        path = self._quote(self.path, _PATH_SAFE)
        return f"{self.method} {path}{query} {status}"


def _access(record: logging.LogRecord) -> AccessRecord | None:
    args = record.args
    if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], AccessRecord):
        return args[0]
    return None


def _redact_exception(formatter: logging.Formatter, record: logging.LogRecord) -> None:
    """A traceback can quote a secret (in an exception's message): the ``redact`` the app
    put on the record (``extra``) takes it out before either format shows it."""
    redact = getattr(record, "redact", None)
    if redact is not None and record.exc_info and not record.exc_text:
        record.exc_text = redact(formatter.formatException(record.exc_info))


class TextFormatter(logging.Formatter):
    """``TIME LOGGER MESSAGE``, one line per request (tracebacks below their line)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s %(message)s")
        self._second: tuple[int, str] = (-1, "")

    def access_line(
        self, created: float, template: AccessRecord, head: str, duration_ms: float, number: int
    ) -> str:
        """What ``format`` gives for ``template`` (a hot read's: never a refusal, which the
        servers log through ``logging``) with this duration, logged at ``created`` on
        chatlabels.access; ``head`` is ``template.head()``, kept by the caller. No
        ``LogRecord`` is built, ``asctime`` is formatted once a second, and the request id
        (request ``number``'s) is not in a text line."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            asctime = time.strftime(self.default_time_format, time.localtime(second))
            cached = self._second = (second, asctime)
        millis = _MILLIS[int((created - second) * 1000)]
        return f"{cached[1]},{millis} {ACCESS_LOGGER} {head} {duration_ms:.1f}ms"

    def format(self, record: logging.LogRecord) -> str:
        _redact_exception(self, record)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = self._fields(record.created, record.levelname, record.name, record.getMessage())
        access = _access(record)
        if access is not None:
            line.update(access.fields())
        quoted_id = getattr(record, "request_id", None)
        if quoted_id is not None:
            line["request_id"] = quoted_id
        _redact_exception(self, record)
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)

    def access_line(
        self, created: float, template: AccessRecord, head: str, duration_ms: float, number: int
    ) -> str:
        """What ``format`` gives for ``template`` with this duration and request ``number``'s
        id, logged at ``created`` on chatlabels.access."""
        record = replace(template, duration_ms=round(duration_ms, 1), request_id=request_id(number))
        line = self._fields(created, "INFO", ACCESS_LOGGER, str(record))
        line.update(record.fields())
        return json.dumps(line, ensure_ascii=False)

    @staticmethod
    def _fields(created: float, level: str, logger: str, message: str) -> dict[str, Any]:
        return {
            "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
            "level": level.lower(),
            "logger": logger,
            "message": message,
        }


#: How late a buffered line may reach the stream (warnings and errors are written at once).
FLUSH_SECONDS = 0.1
#: Buffered lines beyond which they are written at once, whatever the time.
_FLUSH_LINES = 256
#: Characters beyond which a line is written at once (with those gathered before it): so
#: what waits is at most ``_FLUSH_LINES`` lines of this length, whatever the requests.
_LONG_LINE = 4096


class BufferedStreamHandler(logging.Handler):
    """A stream handler that gathers lines and writes them together.

    One write and flush per line would cost a system call for every request; here a
    background thread writes what gathered every ``FLUSH_SECONDS``, a full buffer or a
    warning is written at once, and ``flush``/``close`` (``logging.shutdown`` at exit) write
    the rest, so no line is lost and the order is kept.
    """

    def __init__(self, stream: TextIO, formatter: TextFormatter | JsonFormatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.line_formatter = formatter
        self._stream = stream
        #: lines not written yet: appended by any thread without a lock (a deque's append
        #: and popleft are atomic), taken in order by whoever writes
        self._pending: deque[str] = deque()
        self._write_lock = threading.Lock()  # one writer at a time: lines keep their order
        self._wake = threading.Event()
        self._closed = False
        self._writer: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record), urgent=record.levelno >= logging.WARNING)
        except Exception:  # logging's contract: a failing handler reports, never raises
            self.handleError(record)

    def write_line(self, line: str, *, urgent: bool = False) -> None:
        pending = self._pending
        pending.append(line)
        if self._writer is None:
            self._start_writer()
        if urgent or len(pending) >= _FLUSH_LINES or len(line) > _LONG_LINE or self._closed:
            self.flush()

    def flush(self) -> None:
        """Write what gathered. Never raises: a line is written from the request path, and a
        stream that went away (a closed pipe) must not turn answers into 500s; what cannot
        be written is dropped, as a closed terminal drops it."""
        with self._write_lock:
            pending = self._pending
            lines = [pending.popleft() for _ in range(len(pending))]  # only writers take
            with contextlib.suppress(OSError, ValueError):
                if lines:
                    self._stream.write("\n".join(lines) + "\n")
                self._stream.flush()

    def _start_writer(self) -> None:
        with self._write_lock:
            if self._writer is None and not self._closed:
                self._writer = threading.Thread(
                    target=self._write_periodically, name="chatlabels-log", daemon=True
                )
                self._writer.start()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()

    def _write_periodically(self) -> None:
        while not self._wake.wait(FLUSH_SECONDS):
            self.flush()


class AccessLog:
    """Writes the hot path's access lines: straight into chatlabels' own buffered handler
    when that is where they would end up anyway, else through ``logging``."""

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._root = logging.getLogger()
        #: the loggers a line passes through on its way up to the root
        self._chain: list[logging.Logger] = []
        logger: logging.Logger | None = self._logger
        while logger is not None and logger is not self._root:
            self._chain.append(logger)
            logger = logger.parent

    def write(
        self, template: AccessRecord, head: str, duration_ms: float, number: int, at: float
    ) -> None:
        """Log ``template`` with this duration and request ``number``'s id, as logged at
        ``at`` (``time.time()``); ``head`` is ``template.head()``."""
        if not self._logger.isEnabledFor(logging.INFO):
            return
        handler = self._direct_handler()
        if handler is None:
            duration = round(duration_ms, 1)
            record = replace(template, duration_ms=duration, request_id=request_id(number))
            self._logger.info("%s", record)
        else:
            formatter = handler.line_formatter
            handler.write_line(formatter.access_line(at, template, head, duration_ms, number))

    def _direct_handler(self) -> BufferedStreamHandler | None:
        """The root's one handler when it is ours and nothing on the way filters or adds."""
        root = self._root
        handlers = root.handlers
        if len(handlers) != 1 or root.filters:
            return None
        handler = handlers[0]
        if type(handler) is not BufferedStreamHandler or handler.filters:
            return None
        if handler.level > logging.INFO:
            return None
        for logger in self._chain:
            if logger.handlers or logger.filters or not logger.propagate or logger.disabled:
                return None
        return handler


def configure_logging(*, log_format: str, level: str, stream: TextIO | None = None) -> None:
    """Send every log line to ``stream`` (stderr) in ``log_format`` from ``level`` up."""
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    handler = BufferedStreamHandler(stream or sys.stderr, formatter)
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, BufferedStreamHandler):  # ours, from an earlier call: write its rest
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The servers' own notices (waitress's "Task queue depth is N" under load, granian's
    # "Started worker-1") are not the user's business: their warnings are shown, and with
    # --quiet (level warning) only their errors.
    quieter = logging.WARNING if root.level < logging.WARNING else logging.ERROR
    for server in ("waitress", "granian", "_granian"):
        logging.getLogger(server).setLevel(quieter)
