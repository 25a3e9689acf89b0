"""An HTTP client for one target (the live API, the mock, a stub): the kit's only way out.

``Target`` knows the base URL and the credentials, spaces requests out to honour ``rate``,
bounds each with a timeout, and records every exchange with the token already redacted, so
nothing downstream (findings, reports, logs) can leak it. It is reusable on its own::

    target = Target("https://api.wawp.net", instance_id="123", access_token=token, rate=2)
    exchange = target.chat_labels("5511999990000@c.us")
    exchange.status, exchange.json

A connection failure or a TLS error raises ``TargetUnreachable`` (the kit cannot run); a
timeout is an answer like any other (``exchange.error``), because a hang is a finding. So is
a redirect: it is never followed (that would hand the token to wherever it points).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from chatlabels.kit.findings import REDACTED, RequestInfo

__all__ = ["NOT_JSON", "SAME", "Credentials", "Exchange", "Target", "TargetUnreachable"]

#: The body could not be parsed as JSON (``Exchange.json`` is this object then).
NOT_JSON: Any = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()

#: Send the target's own credentials (the default of every request method).
SAME: Any = type("Same", (), {"__repr__": lambda self: "SAME"})()

_SECRET_QUERY = "access_token"
_SECRET_HEADER = "access-token"
_SECRET_HEADERS = {_SECRET_HEADER, "x-api-key", "x-admin-token"}


class TargetUnreachable(Exception):
    """The target cannot be talked to at all (DNS, refused connection, TLS)."""


@dataclass(frozen=True)
class Credentials:
    """The query credentials of a request; ``None`` leaves a parameter out."""

    instance_id: str | None
    access_token: str | None


@dataclass(frozen=True)
class Exchange:
    """One request and what came back. ``status`` is None when no answer came (``error``)."""

    request: RequestInfo
    status: int | None
    content_type: str = ""
    text: str = ""
    json: Any = NOT_JSON
    error: str | None = None
    elapsed: float = 0.0

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


@dataclass
class Target:
    """A target API reached at ``base_url`` with one instance's credentials.

    ``rate`` is the most requests per second (None: unthrottled); ``timeout`` bounds each
    request in seconds. ``exchanges`` holds every exchange so far, redacted.
    """

    base_url: str
    instance_id: str
    access_token: str = field(repr=False)
    rate: float | None = None
    timeout: float = 10.0
    verify: bool = True
    exchanges: list[Exchange] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base URL {self.base_url!r} is not an http(s) URL")
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._next_at = 0.0

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.instance_id, self.access_token)

    def chat_labels(
        self, chat_id: str, *, raw_at: bool = False, credentials: Credentials = SAME
    ) -> Exchange:
        """``GET /v2/labels/chats/{chatId}`` (the ``@`` sent as ``%40`` unless ``raw_at``)."""
        path = "/v2/labels/chats/" + path_segment(chat_id, raw_at=raw_at)
        return self.get(path, credentials=credentials)

    def directory(self) -> Exchange:
        """``GET /v2/labels``: the account's label directory."""
        return self.get("/v2/labels")

    def get(
        self, path: str, *, params: dict[str, str] | None = None, credentials: Credentials = SAME
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
        credentials: Credentials = SAME,
    ) -> Exchange:
        """Any method on ``path`` (already encoded), credentials in the query string, an
        optional JSON body; secret headers (``X-Api-Key``...) are redacted in the record."""
        creds = self.credentials if credentials is SAME else credentials
        query = [(k, v) for k, v in (params or {}).items()]
        if creds.instance_id is not None:
            query.append(("instance_id", creds.instance_id))
        if creds.access_token is not None:
            query.append((_SECRET_QUERY, creds.access_token))
        shown = RequestInfo(
            method,
            path,
            tuple((k, REDACTED if k == _SECRET_QUERY else v) for k, v in query),
            tuple(
                (k, REDACTED if k.lower() in _SECRET_HEADERS else v)
                for k, v in (headers or {}).items()
            ),
        )
        body = None if json_body is None else json.dumps(json_body).encode()
        all_headers = {**(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        prepared = self._session.prepare_request(
            requests.Request(method, self.base_url + path, data=body, headers=all_headers)
        )
        # Bypass requests' re-quoting of the path: the target must see exactly our encoding.
        prepared.url = self.base_url + path + ("?" + _encode(query) if query else "")
        exchange = self._send(prepared, shown)
        with self._lock:
            self.exchanges.append(exchange)
        return exchange

    def close(self) -> None:
        """Close kept-alive connections (the target stays usable: they reopen on demand)."""
        self._session.close()

    def _send(self, prepared: requests.PreparedRequest, shown: RequestInfo) -> Exchange:
        self._throttle()
        started = time.perf_counter()
        try:
            # A 3xx is an answer to judge: following it would forward the query token to
            # wherever the target points and judge someone else's answer.
            response = self._session.send(
                prepared, timeout=self.timeout, verify=self.verify, allow_redirects=False
            )
        except requests.exceptions.SSLError as exc:
            reason = _reason(exc, self.access_token)
            raise TargetUnreachable(f"TLS error talking to {self.base_url}: {reason}") from None
        except requests.exceptions.Timeout:
            return Exchange(shown, None, error=f"no answer within {self.timeout:g}s")
        except requests.exceptions.RequestException as exc:
            reason = _reason(exc, self.access_token)
            raise TargetUnreachable(f"cannot reach {self.base_url}: {reason}") from None
        elapsed = time.perf_counter() - started
        text = response.text
        try:
            body = json.loads(text)
        except ValueError:
            body = NOT_JSON
        return Exchange(
            shown,
            response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            text=text,
            json=body,
            elapsed=elapsed,
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


def _encode(query: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)


def _reason(exc: Exception, secret: str) -> str:
    """The innermost cause of a requests error, on one line, the token scrubbed."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return text.replace(secret, REDACTED) if secret else text
