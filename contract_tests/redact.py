"""Redaction of the exact secrets the kit sends, wherever a target might echo them.

A secret is replaced as a whole occurrence (not inside a longer word: a token ``x`` must not
turn ``text/html`` into ``te[redacted]t/html``, nor a chat id ``123456789@c.us`` lose its
number when the key is ``123456789``) in every spelling the kit itself uses: raw,
percent-encoded in a query, JSON-escaped in a body. It happens on receipt, before any text
is cut short for a report, so no prefix of a secret can survive a truncation.

A secret shorter than ``MIN_SECRET`` characters cannot be told apart from ordinary text;
it is not masked in bodies (which would garble every report) and ``Secrets.notes`` says so,
for the report to name it honestly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chatlabels.contract.redaction import REDACTED

__all__ = ["MIN_SECRET", "REDACTED", "Secrets"]

#: Secrets shorter than this are not searched for in answers (see the module docstring).
MIN_SECRET = 6

#: Characters that continue a word: a secret next to one is part of something else. ``@``
#: is one, so a chat id such as ``123456789@c.us`` stays whole when a key is ``123456789``.
_WORD = "A-Za-z0-9_\\-@"


@dataclass
class Secrets:
    """The secrets of a run; ``public`` are values sent in clear (the instance id), which an
    answer may echo legitimately. A secret equal to one of them is shown in every request
    line anyway: it is neither masked nor judged as a leak (``notes`` says so)."""

    values: tuple[str, ...]
    public: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        maskable = [v for v in self.values if len(v) >= MIN_SECRET and v not in self.public]
        spellings = {form for value in maskable for form in _spellings(value)}
        if spellings:
            alternatives = "|".join(map(re.escape, sorted(spellings, key=len, reverse=True)))
            self._pattern = re.compile(f"(?<![{_WORD}])(?:{alternatives})(?![{_WORD}])")

    @property
    def notes(self) -> list[str]:
        """What the report must say about secrets it cannot judge or mask."""
        notes = []
        if any(0 < len(value) < MIN_SECRET for value in self.values):
            notes.append(
                f"a secret shorter than {MIN_SECRET} characters cannot be told apart from "
                "other text: answers were not searched for it, nor masked"
            )
        if any(value in self.public for value in self.values if value):
            notes.append(
                "the access token equals the instance id, which is sent in clear: it is not "
                "masked, and an answer naming the instance id is not judged a token leak"
            )
        return notes

    def scrub(self, text: str) -> str:
        """``text`` with every whole occurrence of a secret replaced by ``[redacted]``."""
        return text if self._pattern is None else self._pattern.sub(REDACTED, text)

    def found_in(self, text: str, sent: Iterable[str | None] = ()) -> bool:
        """Whether ``text`` holds a secret (or one of the ``sent`` values) that is not also a
        value sent in clear."""
        extra = [s for s in sent if s and len(s) >= MIN_SECRET and s not in self.public]
        mine = [v for v in self.values if v not in self.public]
        return Secrets((*mine, *extra)).scrub(text) != text

    def scrub_json(self, value: Any) -> Any:
        """``value`` with every string (keys too) scrubbed; numbers are left alone."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_json(item) for item in value]
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub_json(v) for k, v in value.items()}
        return value

    def with_values(self, *more: str | None) -> Secrets:
        """These secrets plus ``more`` (the wrong tokens a check sends)."""
        added = tuple(v for v in more if v and v not in self.values)
        return self if not added else Secrets((*self.values, *added), self.public)


def _spellings(value: str) -> set[str]:
    return {value, quote(value, safe=""), json.dumps(value)[1:-1]}
