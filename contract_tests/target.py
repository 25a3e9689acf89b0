"""An HTTP client for one target (the live API, the mock, a stub): the kit's only way out.

``Target`` knows the base URL and the credentials, spaces requests out to honour ``rate``,
bounds each by a deadline (``timeout`` seconds for connect, headers and whole body) and its
body by ``max_body`` bytes (``wire.py``), waits out a 429/503 that carries ``Retry-After``
(and backs off from a bare 429), and records every exchange with the secrets already
redacted, so nothing downstream (findings, reports, logs) can leak them. It is reusable on
its own::

    target = Target("https://api.wawp.net", instance_id="123", access_token=token, rate=2)
    exchange = target.chat_labels("5511999990000@c.us")
    exchange.status, exchange.json

A connection failure or a TLS error raises ``TargetUnreachable`` (the kit cannot run); a
timeout is an answer like any other (``exchange.error``), because a hang is a finding. So is
a redirect: it is never followed (that would hand the token to wherever it points). A body
that is not strict JSON is kept with its ``problems`` (repeated keys, NaN, a byte-order
mark, a lying Content-Encoding...), each at its JSON pointer. When the run's ``deadline``
passes, or the target keeps refusing with 429, ``TargetStopped`` ends the run.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

from chatlabels.contract.strict_json import Problem, inspect
from chatlabels.kit.bounds import DEFAULT_MAX_BODY
from chatlabels.kit.dialect import PROVIDER, Dialect
from chatlabels.kit.findings import REDACTED, RequestInfo
from chatlabels.kit.redact import Secrets
from chatlabels.kit.wire import Connection, NoAnswer, Unreachable

__all__ = [
    "MAX_RETRIES",
    "MAX_WAIT",
    "NOT_JSON",
    "SAME",
    "Exchange",
    "OutOfTime",
    "QueryAuth",
    "RateLimited",
    "Target",
    "TargetStopped",
    "TargetUnreachable",
]

#: The body could not be parsed as JSON (``Exchange.json`` is this object then).
NOT_JSON: Any = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()

#: Send the target's own credentials (the default of every request method).
SAME: Any = type("Same", (), {"__repr__": lambda self: "SAME"})()

#: Throttled answers (429, or 503 with Retry-After) retried per request before giving up.
MAX_RETRIES = 5
#: The longest single wait a Retry-After may ask for (seconds); longer gives up at once.
MAX_WAIT = 120.0

_SECRET_QUERY = "access_token"
_SECRET_HEADERS = {"access-token", "x-api-key", "x-admin-token"}
_KEPT_TEXT = 2000  # characters of a body kept in ``Target.exchanges`` (memory stays bounded)
_BOM = "\ufeff"


class TargetUnreachable(Exception):
    """The target cannot be talked to at all (DNS, refused connection, TLS)."""


class TargetStopped(Exception):
    """The run must stop before its end; ``str()`` is the one-line reason."""


class OutOfTime(TargetStopped):
    """The run's ``--max-time`` passed."""


class RateLimited(TargetStopped):
    """The target kept answering 429 (or 503 with Retry-After) past the retry bound."""


@dataclass(frozen=True)
class QueryAuth:
    """The query parameters that authenticate a request (``instance_id``, ``access_token``);
    ``None`` leaves one out."""

    instance_id: str | None
    access_token: str | None


@dataclass(frozen=True)
class Exchange:
    """One request and what came back. ``status`` is None when no answer came (``error``).

    ``problems`` are what a strict reader refuses in the answer, each at its JSON pointer;
    ``echoed`` says the body held a secret sent with this request (now redacted in it).
    """

    request: RequestInfo
    status: int | None
    content_type: str = ""
    text: str = ""
    json: Any = NOT_JSON
    error: str | None = None
    elapsed: float = 0.0
    problems: tuple[Problem, ...] = ()
    echoed: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def is_json(self) -> bool:
        return self.json is not NOT_JSON


def path_segment(value: str, *, raw_at: bool = False) -> str:
    """``value`` percent-encoded as one path segment.

    Slashes are encoded so a traversal attempt stays inside its segment, and a bare ``.`` or
    ``..`` is encoded so no client library normalises it away before the target sees it.
    """
    segment = quote(value, safe="@" if raw_at else "")
    return segment.replace(".", "%2E") if segment in {".", ".."} else segment


#: Told of the run's progress: ``("sent", n)`` after each request, ``("wait", seconds)``
#: before waiting out a throttled answer.
Watcher = Callable[[str, float], None]


@dataclass
class Target:
    """A target API reached at ``base_url`` with one instance's credentials.

    ``rate`` is the most requests per second (None: unthrottled); ``timeout`` is the deadline
    of each request in seconds, ``max_body`` the most bytes read of a body, ``deadline`` a
    ``time.monotonic()`` value after which no request starts (``--max-time``).
    ``exchanges`` holds every exchange so far, redacted, each body cut to 2000 characters.
    ``waits`` the seconds waited on each throttled answer.
    """

    base_url: str
    instance_id: str
    access_token: str = field(repr=False)
    rate: float | None = None
    timeout: float = 10.0
    verify: bool = True
    max_body: int = DEFAULT_MAX_BODY
    deadline: float | None = None
    backoff: float = 1.0
    dialect: Dialect = PROVIDER
    secrets: Secrets = field(default_factory=lambda: Secrets(()), repr=False)
    watcher: Watcher | None = field(default=None, repr=False)
    exchanges: list[Exchange] = field(default_factory=list, repr=False)
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base URL {self.base_url!r} is not an http(s) URL")
        if self.timeout <= 0:
            raise ValueError("--timeout must be more than 0 seconds")
        self.secrets = self.secrets.with_values(self.access_token)
        self.secrets = Secrets(self.secrets.values, (self.instance_id,))
        self._connection = Connection(self.base_url, self.verify)
        self._lock = threading.Lock()
        self._next_at = 0.0

    @property
    def credentials(self) -> QueryAuth:
        return QueryAuth(self.instance_id, self.access_token)

    @property
    def out_of_time(self) -> bool:
        """Whether ``deadline`` has passed: from then on every request raises OutOfTime."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def chat_labels(
        self, chat_id: str, *, raw_at: bool = False, credentials: QueryAuth = SAME
    ) -> Exchange:
        """Get Chat Labels (the ``@`` sent as ``%40`` unless ``raw_at``)."""
        path = self.dialect.chat_path(path_segment(chat_id, raw_at=raw_at))
        return self.get(path, credentials=credentials)

    def directory(self) -> Exchange:
        """``GET /v2/labels`` (WAHA: ``/api/{session}/labels``): the label directory."""
        return self.get(self.dialect.prefix)

    def label(self, label_id: str) -> Exchange | None:
        """``GET /v2/labels/{id}``; None where the dialect has no such call (WAHA)."""
        path = self.dialect.label_path(path_segment(label_id))
        return None if path is None else self.get(path)

    def label_chats(self, label_id: str) -> Exchange:
        """The chats carrying a label (``GET .../labels/{id}/chats``)."""
        return self.get(self.dialect.label_chats_path(path_segment(label_id)))

    def get(
        self, path: str, *, params: dict[str, str] | None = None, credentials: QueryAuth = SAME
    ) -> Exchange:
        """GET ``path`` (already encoded) with the credentials in the query string."""
        return self.request("GET", path, params=params, credentials=credentials)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        credentials: QueryAuth = SAME,
    ) -> Exchange:
        """Any method on ``path`` (already encoded), credentials in the query string, an
        optional JSON body; secret headers (``X-Api-Key``...) are redacted in the record."""
        creds = self.credentials if credentials is SAME else credentials
        if self.dialect.is_waha and credentials is SAME:
            # WAHA reads its key from X-Api-Key (src/core/auth/apiKey.strategy.ts); no query.
            creds = QueryAuth(None, None)
            headers = {"X-Api-Key": self.access_token, **(headers or {})}
        query = [(k, v) for k, v in (params or {}).items()]
        if creds.instance_id is not None:
            query.append(("instance_id", creds.instance_id))
        if creds.access_token is not None:
            query.append((_SECRET_QUERY, creds.access_token))
        sent_secrets = [creds.access_token] + [
            v for k, v in (headers or {}).items() if k.lower() in _SECRET_HEADERS
        ]
        shown = RequestInfo(
            method,
            path,
            tuple((k, REDACTED if k == _SECRET_QUERY and v else v) for k, v in query),
            tuple(
                (k, REDACTED if k.lower() in _SECRET_HEADERS and v else v)
                for k, v in (headers or {}).items()
            ),
            own_secrets=all(s in self.secrets.values for s in sent_secrets if s),
        )
        body = None if json_body is None else json.dumps(json_body).encode()
        all_headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": "chatlabels-kit",
            **(headers or {}),
        }
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        # Our own encoding, exactly: the target must see the path as the check wrote it.
        url = path + ("?" + _encode(query) if query else "")
        exchange = self._with_retries(method, url, all_headers, body, shown, sent_secrets)
        with self._lock:
            kept = exchange.text[:_KEPT_TEXT]
            self.exchanges.append(replace(exchange, text=kept, json=NOT_JSON))
        if self.watcher is not None:
            self.watcher("sent", len(self.exchanges))
        return exchange

    def close(self) -> None:
        """Close the kept-alive connection (the target stays usable: it reopens on demand)."""
        self._connection.close()

    def _with_retries(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        shown: RequestInfo,
        sent: list[str | None],
    ) -> Exchange:
        for attempt in range(MAX_RETRIES + 1):
            exchange = self._send(method, url, headers, body, shown, sent)
            wait = self._retry_wait(exchange, attempt)
            if wait is None:
                return exchange
            if attempt == MAX_RETRIES or wait > MAX_WAIT:
                asked = f"(asked to wait {wait:g}s) " if wait > MAX_WAIT else ""
                raise RateLimited(
                    f"rate-limited: {shown} answered {exchange.status} {asked}after "
                    f"{attempt} retries; try a lower --rate"
                )
            if self.deadline is not None and time.monotonic() + wait > self.deadline:
                raise OutOfTime(
                    f"--max-time reached while waiting {wait:g}s on a {exchange.status}"
                )
            if self.watcher is not None:
                self.watcher("wait", wait)
            self.waits.append(wait)
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_wait(self, exchange: Exchange, attempt: int) -> float | None:
        """Seconds to wait before retrying a throttled answer, or None if it is final."""
        if exchange.status not in {429, 503}:
            return None
        given = dict(exchange.headers).get("retry-after")
        if given is not None:
            return _retry_after(given)
        return self.backoff * 2**attempt if exchange.status == 429 else None

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        shown: RequestInfo,
        sent: list[str | None],
    ) -> Exchange:
        self._throttle()
        if self.out_of_time:
            raise OutOfTime("--max-time reached")
        deadline = time.monotonic() + self.timeout
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        try:
            raw = self._connection.fetch(
                method, url, headers=headers, body=body, deadline=deadline, max_body=self.max_body
            )
        except Unreachable as exc:
            reason = self.secrets.scrub(str(exc))
            raise TargetUnreachable(f"cannot reach {self.base_url}: {reason}") from None
        except NoAnswer as exc:
            if self.out_of_time:
                raise OutOfTime("--max-time reached") from None
            error = f"no answer within {self.timeout:g}s" if exc.timed_out else str(exc)
            return Exchange(shown, None, error=error)
        text = raw.body.decode("utf-8", errors="replace")
        echoed = self.secrets.found_in(text, sent)
        secrets = self.secrets.with_values(*sent)
        document, problems = _parse(text, raw.problem)
        return Exchange(
            shown,
            raw.status,
            content_type=raw.headers.get("content-type", ""),
            text=secrets.scrub(text),
            json=document if document is NOT_JSON else secrets.scrub_json(document),
            elapsed=raw.elapsed,
            problems=tuple(Problem(p.pointer, secrets.scrub(p.reason)) for p in problems),
            echoed=echoed,
            headers=tuple(raw.headers.items()),
        )

    def _throttle(self) -> None:
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + 1.0 / self.rate
        if wait > 0:
            time.sleep(wait)


def _parse(text: str, problem: str | None) -> tuple[Any, list[Problem]]:
    """The body as JSON (or NOT_JSON) and what a strict reader refuses in it."""
    problems = [Problem("", problem)] if problem else []
    if problem or not text.strip():
        return NOT_JSON, problems
    if text.startswith(_BOM):
        problems.append(Problem("", "a byte-order mark before the JSON (RFC 8259 section 8.1)"))
        text = text[1:]
    try:
        document, found = inspect(text)
    except ValueError as exc:
        if "nested" in str(exc):
            problems.append(Problem("", str(exc)))
        return NOT_JSON, problems
    problems += found
    if any("nested" in p.reason for p in found):
        return NOT_JSON, problems  # too deep to judge safely: the problem is the finding
    return document, problems


def _retry_after(value: str) -> float:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0  # unreadable: wait a little, as for a bare 429's first backoff
    return max(when.timestamp() - time.time(), 0.0)


def _encode(query: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
