"""Redaction by value: a known secret is replaced wherever it shows, whatever carries it.

Redaction by name (``access_token=[redacted]``) misses a token sent as ``accessToken=``,
after a ``;`` separator, inside another value (``?note=xx<token>yy``, ``Authorization:
Bearer <token>``) or in a body sent to a mistyped path. Once the secrets are known (each
loaded instance's token, API key and webhook HMAC key, and the admin token), a
``ValueRedactor`` finds them in any text: raw, percent-encoded (either case of hex, ``+`` for a
space, any mix of encoded and plain characters), and JSON-escaped (``\\"``, ``\\uXXXX``).

The rule (README "Security notes"): a secret of at least ``MIN_EMBEDDED_SECRET_CHARS``
characters is redacted wherever it occurs, glued to other text or not, and in any case (a
server upper-cases a method, title-cases a header name); a shorter one (a
one-letter token in a test fixture) only where it stands alone, not next to a letter or
digit, so that ``t`` does not turn ``text/html`` into ``[redacted]ext/h...``.

Work is skipped when no secret can be in a text: without ``%``, ``+`` or ``\\`` in it, only
the raw form can match, and a plain substring test rules that out first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from chatlabels.contract.redaction import REDACTED

__all__ = ["MIN_EMBEDDED_SECRET_CHARS", "NO_SECRETS", "ValueRedactor"]

#: Secrets this long or longer are redacted even inside other text; shorter ones only where
#: they stand alone (not next to a letter or digit).
MIN_EMBEDDED_SECRET_CHARS = 8

_ALONE_BEFORE = r"(?<![A-Za-z0-9])"
_ALONE_AFTER = r"(?![A-Za-z0-9])"


def _hex(text: str) -> str:
    """A regex for hex digits ``text`` in either case."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in text)


def _char_pattern(char: str) -> str:
    """Every spelling of one character: itself, percent-encoded, JSON-escaped."""
    utf8 = char.encode("utf-8", "surrogatepass")
    forms = {re.escape(char), "".join(f"%{_hex(f'{b:02X}')}" for b in utf8)}
    if char == " ":
        forms.add(r"\+")
    if char == "+":
        forms.add(" ")  # a "+" sent unencoded in a query reads as a space
    escaped = json.dumps(char)[1:-1]
    if escaped != char:
        forms.add(re.escape(escaped))
    units = char.encode("utf-16-be", "surrogatepass")
    forms.add("".join(rf"\\u{_hex(units[i : i + 2].hex())}" for i in range(0, len(units), 2)))
    if char == "/":
        forms.add(r"\\/")
    return f"(?:{'|'.join(sorted(forms))})"


def _secret_pattern(secret: str) -> str:
    body = "".join(_char_pattern(c) for c in secret)
    if len(secret) >= MIN_EMBEDDED_SECRET_CHARS:
        # in any case too: a server upper-cases a method, title-cases a header name
        return f"(?i:{body})"
    return f"{_ALONE_BEFORE}{body}{_ALONE_AFTER}"


class ValueRedactor:
    """Replaces known secret values by ``[redacted]`` in texts and JSON-ready documents.

    Immutable: a new set of secrets is a new redactor, swapped in whole, so a request never
    sees half of one.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        kept = {s for s in secrets if s and s != REDACTED}
        # Longest first, so a secret that is part of another does not leave the rest shown.
        self._secrets = tuple(sorted(kept, key=lambda s: (-len(s), s)))
        # What the quick test looks for: a short secret as it is, a long one case-folded.
        self._short = tuple(s for s in self._secrets if len(s) < MIN_EMBEDDED_SECRET_CHARS)
        self._folded = tuple(
            s.casefold() for s in self._secrets if len(s) >= MIN_EMBEDDED_SECRET_CHARS
        )
        self._pattern = (
            re.compile("|".join(_secret_pattern(s) for s in self._secrets))
            if self._secrets
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced by ``[redacted]``."""
        if self._pattern is None:
            return text
        if self._may_hold(text) or "%" in text or "+" in text or "\\" in text:
            return self._pattern.sub(REDACTED, text)
        return text

    def _may_hold(self, text: str) -> bool:
        """Whether ``text`` holds a secret spelled raw: plain substring tests, the cheapest
        way to rule one out (a long secret in any case, so the text is folded once)."""
        if any(secret in text for secret in self._short):
            return True
        if not self._folded:
            return False
        folded = text.casefold()
        return any(secret in folded for secret in self._folded)

    def redact_json(self, value: Any) -> Any:
        """A copy of ``value`` with each text in it (mapping keys too) redacted.

        Numbers, booleans and the JSON syntax are left alone: a short secret ``1`` must not
        turn ``"count": 1`` into invalid JSON.
        """
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_json(k): self.redact_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_json(v) for v in value]
        return value


#: The redactor of a mock that knows no secret yet.
NO_SECRETS = ValueRedactor()
