"""The kit's default bounds of a run, apart from the modules that enforce them, so the
command line can show them without importing the checks (and Hypothesis) at every start."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_TIME"]

#: Seconds a whole run may take (--max-time): a default run needs well under a minute even at
#: the default rate, so this only ends a run whose target hangs on request after request.
DEFAULT_MAX_TIME = 600.0
#: Bytes of a body (after decompression) read before giving up on it: 10 MB.
DEFAULT_MAX_BODY = 10 * 2**20
