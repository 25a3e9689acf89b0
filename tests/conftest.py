"""Shared test set-up: Hypothesis profiles and real servers on free ports."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from chatlabels.mock import DEFAULT_FIXTURE, parse_fixture
from chatlabels.mock.serving.server import MockServer
from tests.webhook_receiver import Receiver

settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The Ctrl-C tests send SIGINT to a child process, as a terminal does to a foreground one.
# A child inherits an *ignored* SIGINT (pytest started as `cmd &` by a script without job
# control: the shell ignores SIGINT for it), and then never sees the signal: give SIGINT
# its default back, so that children start with it too.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"

#: Servers started as processes by the current test (``owned_by_the_test``).
_TEST_PROCESSES: list[subprocess.Popen[str]] = []


def owned_by_the_test(process: subprocess.Popen[str]) -> subprocess.Popen[str]:
    """``process``, killed when the test ends if it still runs: a test that fails before
    stopping its server must not leave it running for the rest of the session."""
    _TEST_PROCESSES.append(process)
    return process


@pytest.fixture(autouse=True)
def _kill_what_the_test_left() -> Iterator[None]:
    yield
    while _TEST_PROCESSES:
        process = _TEST_PROCESSES.pop()
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def default_fixture_data() -> dict[str, Any]:
    """The bundled default fixture as a fresh, editable dict."""
    return json.loads(DEFAULT_FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def start_server() -> Iterator[Callable[..., MockServer]]:
    """Start real mock servers on free ports; every one is stopped after the test."""
    servers: list[MockServer] = []

    def start(fixture: dict[str, Any] | None = None, **options: Any) -> MockServer:
        data = copy.deepcopy(fixture) if fixture is not None else default_fixture_data()
        server = MockServer(parse_fixture(data), port=0, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def default_server() -> Iterator[MockServer]:
    """One server on the default fixture shared by a module's tests (a test that changes
    its state loads its own fixture first)."""
    server = MockServer(parse_fixture(default_fixture_data()), port=0).start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free port, closed after the test."""
    server = Receiver()
    yield server
    server.close()
