"""Every bound of the mock server in one place, with its default (README "Limits").

A mock that tests and developers leave running must stay small and responsive whatever a
client does: a leaky connection pool, a slowloris, a huge upload, thousands of parameters,
a webhook receiver that hangs. Each bound here has a ``chatlabels serve`` option; this module
imports nothing heavy, so ``chatlabels serve --help`` can show the defaults without Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from chatlabels.contract.fixtures import MAX_FIXTURE_BYTES
from chatlabels.contract.problems import MAX_PROBLEMS, MAX_REASON_CHARS, ReportBounds

__all__ = [
    "DEFAULT_JOURNAL_BYTES",
    "DEFAULT_JOURNAL_SIZE",
    "DEFAULT_MAX_LONG_POLLS",
    "DEFAULT_MAX_WAIT_SECONDS",
    "DEFAULT_WEBHOOK_QUEUE",
    "ServerLimits",
]

KIB = 1024
MIB = 1024 * KIB


def _bound(default: Any, what: str) -> Any:
    """A field whose ``what`` is the help text of its ``chatlabels serve`` option."""
    return field(default=default, metadata={"help": what})


@dataclass(frozen=True)
class ServerLimits:
    """Bounds of the HTTP server itself; each field is the ``serve`` option ``--field-name``."""

    max_connections: int = _bound(
        1000, "open connections; when full, the oldest one not being answered makes room"
    )
    idle_timeout: float = _bound(30.0, "seconds a connection may stay idle between requests")
    request_timeout: float = _bound(
        10.0, "seconds a request may take to arrive whole (headers and body) from its first byte"
    )
    max_header_bytes: int = _bound(16 * KIB, "bytes of the request line and headers together")
    max_headers: int = _bound(
        100, "header fields in one request (granian itself reads at most 100)"
    )
    max_query_params: int = _bound(100, "query parameters in one request")
    max_body_bytes: int = _bound(64 * KIB, "body bytes of a call to the emulated API")
    max_admin_body_bytes: int = _bound(
        MAX_FIXTURE_BYTES, "body bytes of a call to /__admin/, and of a fixture file"
    )
    grace_seconds: float = _bound(
        10.0, "seconds requests in flight may take to finish after SIGINT (Ctrl-C) or SIGTERM"
    )
    max_problems: int = _bound(
        MAX_PROBLEMS,
        "problems listed in one report (a 422 answer, a refused fixture file); the others "
        "are counted",
    )
    max_problem_chars: int = _bound(MAX_REASON_CHARS, "characters of one listed problem")
    journal_field_chars: int = _bound(
        4096, "characters a journal entry keeps of one text (a body, a header, a query value)"
    )
    journal_field_items: int = _bound(
        100, "items a journal entry keeps of one mapping or list (query parameters, headers)"
    )
    webhook_log: int = _bound(
        1000, "webhook deliveries kept in the delivery log (GET /__admin/webhooks)"
    )

    @property
    def report_bounds(self) -> ReportBounds:
        """How much of a report of problems is shown."""
        return ReportBounds(self.max_problems, self.max_problem_chars)

    def problems(self) -> list[str]:
        """Each bound that is not above zero, as ``--option value``."""
        return [
            f"--{f.name.replace('_', '-')} {getattr(self, f.name)}"
            for f in fields(self)
            if not getattr(self, f.name) > 0
        ]


#: Long-polls of /__admin/webhooks waiting at once (each holds a worker thread).
DEFAULT_MAX_LONG_POLLS = 2
#: Longest ``timeout`` a long-poll may ask for.
DEFAULT_MAX_WAIT_SECONDS = 30.0
#: Journal entries kept, and bytes they may take together.
DEFAULT_JOURNAL_SIZE = 1000
DEFAULT_JOURNAL_BYTES = 16 * MIB
#: Webhook deliveries waiting to be sent; when full the oldest undelivered one is dropped.
DEFAULT_WEBHOOK_QUEUE = 1000
