"""What a person watching a run sees on stderr: the check running, requests sent, a wait.

A default run against a live API at the gentle default rate takes a minute; silence for that
long looks like a hang. One line is redrawn in place (``\\r``) when stderr is a terminal and
nothing is written otherwise, so logs and CI output stay clean.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """The progress line; also the ``Target``'s watcher (``progress("sent", n)``)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._check = "[preflight]"
        self._sent = 0
        self._shown = False

    def check(self, index: int, total: int, name: str) -> None:
        """Check ``index`` (from 1) of ``total`` starts."""
        self._check = f"[{index}/{total}] {name}"
        self._draw("")

    def __call__(self, event: str, value: float) -> None:
        if event == "sent":
            self._sent = int(value)
            self._draw("")
        elif event == "wait":
            self._draw(f"  waiting {value:.3g}s: the target asked to slow down (Retry-After)")

    def done(self) -> None:
        """Clear the line before the report is printed."""
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def _draw(self, extra: str) -> None:
        if not self.enabled:
            return
        line = f"{self._check}  {self._sent} requests sent{extra}"
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()
        self._shown = True
