"""Schemathesis, the standard OpenAPI fuzzer, finds nothing wrong with the mock.

It runs as a user would run it: ``st run <server>/openapi.json`` in its own process with the
repository's ``schemathesis.toml`` (the default fixture's credentials, and the mock's
documented quirks that OpenAPI cannot express), against a real mock on a free port, with every
default check and every phase (examples, coverage, fuzzing, stateful).

Tradeoff: ``--max-examples`` is kept small so the run takes about half a minute; the coverage
phase still sends every boundary and negative case it derives from the document, and the
seed is fixed so a failure reproduces. Raise CHATLABELS_SCHEMATHESIS_EXAMPLES (or run the
README command) for a deeper search.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"
MAX_EXAMPLES = os.environ.get("CHATLABELS_SCHEMATHESIS_EXAMPLES", "10")


def test_schemathesis_finds_no_failure(start_server: Callable[..., Any], tmp_path: Path) -> None:
    server = start_server()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "20240902",
        # One worker: with several, CPython 3.11's ast.parse (used by Hypothesis to describe
        # filters) can fail with "AST constructor recursion depth mismatch" across threads.
        "--workers",
        "1",
        "--request-timeout",
        "10",
        # Hypothesis' too_slow health check times the data generation itself: on a loaded
        # machine it fails the run (an "Errors:" section) for the machine, not the mock.
        # The tests' own Hypothesis profiles suppress it too (tests/conftest.py).
        "--suppress-health-check",
        "too_slow",
    ]
    # cwd: Schemathesis keeps a cache directory where it runs.
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    # Warnings (e.g. "repeatedly returned 404" for random fault-rule ids) are not failures.
    assert "Failures:" not in output and "Errors:" not in output, output[-6000:]
    # Every operation but the four the config leaves out (they change what the others answer).
    assert "Tested: 30" in output, output[-3000:]


@pytest.mark.parametrize("flag", ["--help"])
def test_schemathesis_cli_is_installed(flag: str) -> None:
    """The test extra brings Schemathesis; a clear failure if someone installed without it."""
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", flag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0 and "openapi.json" in run.stdout
