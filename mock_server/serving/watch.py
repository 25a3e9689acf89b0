"""``chatlabels serve --watch``: reload the fixture file when it changes, all or nothing.

Mockoon and WireMock users edit a file and expect the next request to see it. A thread polls
the file's size and modification time (no new dependency, and it works on every file system,
editors that replace the file included) and, when they change and then hold still for one
more poll (an editor may write in pieces), reads it. A change of bytes, not of time, reloads:
``touch`` does nothing. The file is validated exactly as at start-up and then goes through
``Control.load``, the path ``POST /__admin/fixture`` takes, so a reload is atomic: a broken
edit keeps the previous state serving and logs one line naming the file, the JSON pointer
and the reason; a good one logs what changed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

from chatlabels.contract.fixtures import FixtureError, load_fixture
from chatlabels.mock.control.control import Control
from chatlabels.mock.http.errors import InvalidDocument

__all__ = ["FixtureWatcher"]

log = logging.getLogger("chatlabels.watch")

_Stat = tuple[int, int] | None  # (mtime_ns, size), None when the file cannot be seen


class FixtureWatcher:
    """Polls ``path`` every ``interval`` seconds (``chatlabels serve --watch-interval``) in a
    daemon thread and loads it into ``control`` when it changes."""

    def __init__(self, path: Path, control: Control, *, interval: float) -> None:
        self.path = path
        self.control = control
        self.interval = interval
        self._seen = self._stat()
        self._digest = self._read_digest()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chatlabels-watch", daemon=True)

    def start(self) -> FixtureWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        pending: _Stat = self._seen
        while not self._stop.wait(self.interval):
            now = self._stat()
            if now == self._seen:
                continue
            if now != pending:  # still being written: wait until it holds still
                pending = now
                continue
            self._seen = now
            self.poll()

    def poll(self) -> None:
        """Reload now if the file's bytes differ from what was last loaded."""
        digest = self._read_digest()
        if digest is not None and digest == self._digest:
            return
        self._digest = digest
        before = _counts(self.control.store.dump())
        try:
            bounds = self.control.report_bounds
            fixture = self.control.load(load_fixture(self.path, bounds=bounds))
        except FixtureError as exc:
            self._refused([(p.pointer, p.reason) for p in exc.problems], exc.more)
            return
        except InvalidDocument as exc:  # load_fixture passed it, so this is not expected
            self._refused(exc.problems, exc.more)
            return
        after = _counts(fixture)
        changes = ", ".join(f"{what} {before[what]} -> {after[what]}" for what in after)
        log.info("reloaded %s: %s", self.path, changes)

    def _refused(self, problems: list[tuple[str, str]], unlisted: int) -> None:
        pointer, reason = problems[0]
        others = len(problems) - 1 + unlisted  # the report listed only the first few
        more = f" (and {others} more)" if others else ""
        log.error(
            "not reloaded, still serving the previous state: %s: %s: %s%s",
            self.path,
            pointer or "/",
            " ".join(reason.split()),  # one line, whatever the reason holds
            more,
        )

    def _stat(self) -> _Stat:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read_digest(self) -> str | None:
        """The file's SHA-256, read in chunks; None for anything but a readable regular
        file (a FIFO would block the thread, a device never end)."""
        digest = hashlib.sha256()
        try:
            if not self.path.is_file():
                return None
            with self.path.open("rb") as file:
                while chunk := file.read(1 << 16):
                    digest.update(chunk)
        except OSError:
            return None
        return digest.hexdigest()


def _counts(fixture: dict[str, Any]) -> dict[str, int]:
    instances = fixture["instances"]
    return {
        "instances": len(instances),
        "labels": sum(len(instance.get("labels", [])) for instance in instances),
        "chats": sum(len(instance.get("chats", {})) for instance in instances),
    }
