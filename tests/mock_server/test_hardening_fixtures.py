"""Hostile fixture files and documents: not regular, too big, wrong everywhere.

Issue 12's rows: ``--fixtures`` a symlink to /dev/zero (MemoryError, exit 1) or a FIFO (blocked
for ever); one bad fixture file printing 59 MB at start; a 6.3 MB bad fixture POSTed to
``/__admin/fixture`` answered with 204 MB.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.contract.problems import MAX_PROBLEMS
from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatlabels", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,  # a blocked read or a memory blow-up would hit this
    )


def assert_refused(done: subprocess.CompletedProcess[str], reason: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert reason in done.stderr, done.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "fixture.json"
    link.symlink_to("/dev/zero")
    assert_refused(serve("--fixtures", str(link)), "not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fixture.json"
    os.mkfifo(fifo)
    assert_refused(serve("--fixtures", str(fifo)), "not a regular file")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps(default_fixture_data()) + " " * 2000, encoding="utf-8")
    assert_refused(
        serve("--fixtures", str(path), "--max-admin-body-bytes", "2000"), "over the limit"
    )


def wrong_everywhere(chats: int) -> dict[str, Any]:
    """A fixture whose every chat names a label that does not exist."""
    fixture = default_fixture_data()
    fixture["instances"][0]["chats"] = {f"55119{i:08d}@c.us": ["999"] for i in range(chats)}
    return fixture


def test_a_fixture_wrong_everywhere_prints_a_bounded_report(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(wrong_everywhere(5000)), encoding="utf-8")
    done = serve("--fixtures", str(path))
    assert_refused(done, "and 4980 more problems")
    assert len(done.stderr.splitlines()) <= MAX_PROBLEMS + 2
    assert len(done.stderr) < 20_000


def test_a_six_megabyte_bad_fixture_gets_a_small_answer(default_server: MockServer) -> None:
    fixture = wrong_everywhere(3000)
    fixture["instances"][1]["labels"] = "x" * 6_000_000  # quoted whole by jsonschema
    body = json.dumps(fixture)
    assert len(body) > 6_000_000
    response = requests.post(
        f"{default_server.url}/__admin/fixture",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 422
    assert len(response.content) < 20_000
    answer = response.json()
    assert answer["error"] == "invalid_fixture"
    assert len(answer["problems"]) == 1  # the schema problem; rules are checked once it holds
    assert len(answer["problems"][0]["reason"]) <= 300
    del fixture["instances"][1]["labels"]
    response = requests.post(f"{default_server.url}/__admin/fixture", json=fixture, timeout=60)
    answer = response.json()
    assert len(answer["problems"]) == MAX_PROBLEMS
    assert re.search(r"; and \d{4} more problems \(fix these first\)$", answer["message"])
    assert len(response.content) < 20_000
