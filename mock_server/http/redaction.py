"""Secrets: compared in constant time, and never leave the process (logs, the journal and
error bodies see redacted copies)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import urlencode

from chatlabels.contract.redaction import REDACTED

__all__ = ["REDACTED", "is_secret", "redact_headers", "redact_query", "secrets_match"]


_SECRET_NAMES = {
    "access_token",
    "access-token",
    "x-api-key",
    "api_key",
    "apikey",
    "token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-admin-token",
    "x-webhook-hmac",
}


def secrets_match(given: str, expected: str) -> bool:
    """Equal secrets, compared in time that does not tell how much of ``given`` was right."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def is_secret(name: str) -> bool:
    """True for parameter and header names that carry credentials."""
    return name.lower() in _SECRET_NAMES


def redact_query(pairs: Iterable[tuple[str, str]]) -> str:
    """A query string with every secret value replaced, order and repeats kept."""
    return urlencode([(k, REDACTED if is_secret(k) else v) for k, v in pairs])


def redact_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: REDACTED if is_secret(k) else v for k, v in pairs}
