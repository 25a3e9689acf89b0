"""The mock's log lines, formatted in this one place: text for people, JSON for collectors.

Every request is one ``AccessRecord`` logged on ``chatlabels.access``: it carries the fields
(method, path, query with every secret already replaced by ``[redacted]``, status, duration,
instance, request id) and renders itself as the text line, so a logger nobody configured
(the pytest plugin, a ``MockServer`` in a test) still prints a readable line; the line's
pieces go through the app's ``ValueRedactor`` again once percent-encoded. ``JsonFormatter``
writes any record as one JSON object per line, the access fields at top level; the request id
is the one the journal entry and a 500's message quote, so the three can be joined.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from chatlabels.contract.value_redaction import NO_SECRETS, ValueRedactor
from chatlabels.mock.http.redaction import REDACTED

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "AccessRecord",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
]

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")

#: Characters logged as they are in a path, and in a query name or value; anything else is
#: percent-encoded, so a %0A in a request cannot forge a second log line.
_PATH_SAFE = "/@:+,;=-._~!$&'()*"
_VALUE_SAFE = "/@:+,;-._~!$'()*"


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
        pairs = [
            f"{self._quote(name, _VALUE_SAFE)}={self._quote(value, _VALUE_SAFE)}"
            for name, values in self.query.items()
            for value in values
        ]
        query = "?" + "&".join(pairs) if pairs else ""
        status = "dropped" if self.status is None else self.status
        path = self._quote(self.path, _PATH_SAFE)
        line = f"{self.method} {path}{query} {status} {self.duration_ms:.1f}ms"
        return line + (f" (refused before the app: {self.refused})" if self.refused else "")


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

    def format(self, record: logging.LogRecord) -> str:
        _redact_exception(self, record)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        access = _access(record)
        if access is not None:
            line.update(access.fields())
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        _redact_exception(self, record)
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(*, log_format: str, level: str) -> None:
    """Send every chatlabels log line to stderr in ``log_format`` from ``level`` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # waitress's own notices ("Task queue depth is N" under load) are not errors: shown at
    # info and below, silenced from warning up (--quiet); its errors always shown.
    waitress = logging.WARNING if root.level < logging.WARNING else logging.ERROR
    logging.getLogger("waitress").setLevel(waitress)
