"""``chatlabels serve --watch``: a file edited under a running server (a real process, real
sockets) is reloaded when valid and refused, with one line and the old state kept, when not."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

CHATLABELS = str(Path(sys.executable).parent / "chatlabels")
AUTH = {"instance_id": "1", "access_token": "t"}


def fixture(*labels: dict[str, Any], chats: dict[str, list[str]] | None = None) -> str:
    instance = {"id": "1", "token": "t", "labels": list(labels), "chats": chats or {}}
    return json.dumps({"instances": [instance]}, indent=2)


def edit(path: Path, text: str) -> None:
    """Replace the file's content in one step, as editors save. Written in place (truncate,
    then write), a test paused between the two on a loaded machine let the watcher load the
    empty file and log a refusal that the test then took for its own edit's line."""
    partial = path.with_name(f"{path.name}.part")
    partial.write_text(text)
    partial.replace(path)


class Served:
    """A ``chatlabels serve --watch`` process and the lines it logs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process = subprocess.Popen(
            [CHATLABELS, "serve", "--watch", "--watch-interval", "0.1", "--port", "0",
             "--fixtures", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None and self.process.stderr is not None
        self.url = self.process.stdout.readline().strip().rsplit(" ", 1)[1]
        self.lines: queue.Queue[str] = queue.Queue()
        stderr = self.process.stderr
        threading.Thread(
            target=lambda: [self.lines.put(line) for line in stderr], daemon=True
        ).start()

    def line(self, containing: str, timeout: float = 20) -> str:
        """The next logged line that contains ``containing``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if containing in line:
                return line.strip()
        raise AssertionError(f"no line with {containing!r} within {timeout} s")

    def quiet_lines(self, seconds: float) -> list[str]:
        """Every line logged in the next ``seconds`` (requests' own access lines aside)."""
        time.sleep(seconds)
        lines = []
        while not self.lines.empty():
            line = self.lines.get()
            if " /v2/" not in line:
                lines.append(line.strip())
        return lines

    def labels(self) -> list[str]:
        response = requests.get(f"{self.url}/v2/labels", params=AUTH, timeout=5)
        return [label["name"] for label in response.json()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    path = tmp_path / "watched.json"
    path.write_text(fixture({"id": "1", "name": "Lead", "color": 1}))
    server = Served(path)
    yield server
    server.process.terminate()
    server.process.communicate(timeout=15)


def test_a_good_edit_is_served_and_logged_with_what_changed(served: Served) -> None:
    assert served.labels() == ["Lead"]
    edit(
        served.path,
        fixture(
            {"id": "1", "name": "Lead", "color": 1},
            {"id": "2", "name": "VIP", "color": 2},
            chats={"5511999990000@c.us": ["2"]},
        ),
    )
    line = served.line("reloaded")
    assert str(served.path) in line
    assert "instances 1 -> 1, labels 1 -> 2, chats 0 -> 1" in line
    assert served.labels() == ["Lead", "VIP"]


@pytest.mark.parametrize(
    ("broken", "pointer", "reason"),
    [
        (fixture({"id": "1", "name": "Lead", "color": 25}), "/instances/0/labels/0/color", "25"),
        (
            fixture({"id": "1", "name": "Lead", "color": 1}, chats={"x@c.us": ["9"]}),
            "/instances/0/chats/x@c.us",
            "not a chat id",
        ),
        ('{"instances": [', "/", "not JSON"),
    ],
    ids=["schema", "rule", "not-json"],
)
def test_a_broken_edit_keeps_the_old_state_and_logs_one_line(
    served: Served, broken: str, pointer: str, reason: str
) -> None:
    edit(served.path, broken)
    line = served.line("not reloaded")
    assert f"{served.path}: {pointer}: " in line and reason in line
    assert served.labels() == ["Lead"]  # still the previous state
    assert not [line for line in served.quiet_lines(0.5) if "reload" in line]  # one line only
    # and once fixed, the next edit loads
    edit(served.path, fixture({"id": "1", "name": "Fixed", "color": 3}))
    served.line("reloaded")
    assert served.labels() == ["Fixed"]


def test_a_broken_edit_counts_every_problem_not_only_the_listed_ones(served: Served) -> None:
    labels = [{"id": str(i), "name": f"L{i}", "color": 25} for i in range(1, 16)]
    chats = {f"55119{i:08d}@c.us": ["99"] for i in range(30)}
    valid = {"id": "1", "name": "Lead", "color": 1}
    edit(served.path, fixture(valid, chats=chats))  # 30 rule problems
    assert "(and 29 more)" in served.line("not reloaded")
    edit(served.path, fixture(*labels))  # 15 schema problems
    assert "(and 14 more)" in served.line("not reloaded")


def test_touch_without_a_change_does_not_reload(served: Served) -> None:
    served.path.touch()
    assert not [line for line in served.quiet_lines(0.8) if "reload" in line]


def test_a_reload_replaces_what_the_api_changed_like_a_fixture_post(served: Served) -> None:
    created = requests.post(
        f"{served.url}/v2/labels", params=AUTH, json={"name": "Made", "color": 4}, timeout=5
    )
    assert created.status_code in (200, 201)
    assert served.labels() == ["Lead", "Made"]
    edit(served.path, fixture({"id": "1", "name": "Lead", "color": 2}))
    assert "labels 2 -> 1" in served.line("reloaded")
    assert served.labels() == ["Lead"]
