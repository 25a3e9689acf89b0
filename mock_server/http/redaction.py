"""Secrets: compared in constant time, and never leave the process (logs, the journal and
error bodies see redacted copies)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from chatlabels.contract.redaction import REDACTED, is_secret

__all__ = ["REDACTED", "is_secret", "redact_headers", "secrets_match"]


def secrets_match(given: str, expected: str) -> bool:
    """Equal secrets, compared in time that does not tell how much of ``given`` was right."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def redact_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: REDACTED if is_secret(k) else v for k, v in pairs}
