"""The ``chatlabels_mock`` pytest fixture: a real mock server for the user's own tests.

Installing the package registers this module (entry point ``pytest11``). The server starts
once per test session (once per worker under pytest-xdist) on a free port of 127.0.0.1, so
any HTTP client or SDK, in any language, can be pointed at ``chatlabels_mock.base_url``.
State is per test: before each test the store goes back to the test's fixture and the
request journal, webhook log and fault rules are cleared, so tests never see each other.

Which fixture a test gets, most specific first:

1. ``@pytest.mark.chatlabels_fixture("path/to/fixture.json")`` or an inline dict;
2. the ``chatlabels_fixture`` fixture, which a conftest may override or a test may
   parametrise (``@pytest.mark.parametrize("chatlabels_fixture", [...])``);
3. the bundled ``fixtures/default.json``.

A relative path is resolved against the test file's directory.

Loaded into every pytest run of an environment where chatlabels is installed, so this module
imports only pytest: Flask, waitress and the mock load when a test first asks for the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chatlabels.mock.testing.handle import ChatLabelsMock, FixtureSource

__all__ = ["chatlabels_fixture", "chatlabels_mock", "chatlabels_server"]

MARKER = "chatlabels_fixture"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixture): state for chatlabels_mock in this test: a fixture file path "
        "(relative to the test file) or an inline fixture dict",
    )


@pytest.fixture(scope="session")
def chatlabels_server() -> Iterator[Any]:
    """The session's ``MockServer`` (default fixture until a test loads its own)."""
    from chatlabels.contract.fixtures import DEFAULT_FIXTURE, load_fixture
    from chatlabels.mock.serving.server import MockServer

    server = MockServer(load_fixture(DEFAULT_FIXTURE), port=0).start()
    yield server
    server.stop()


@pytest.fixture
def chatlabels_fixture() -> FixtureSource | None:
    """The fixture for ``chatlabels_mock``: a path or a dict; None means the default.

    Override it in a conftest.py, or parametrise it, to give many tests the same state.
    """
    return None


@pytest.fixture
def chatlabels_mock(
    request: pytest.FixtureRequest, chatlabels_server: Any, chatlabels_fixture: Any
) -> ChatLabelsMock:
    """The running mock, reset to this test's fixture, with helpers to drive and inspect it."""
    marker = request.node.get_closest_marker(MARKER)
    source: FixtureSource | None = chatlabels_fixture
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER} takes one argument, a fixture path or dict; "
                f"got args={marker.args!r} kwargs={marker.kwargs!r}"
            )
        source = marker.args[0]
    from chatlabels.mock.testing.handle import ChatLabelsMock

    handle = ChatLabelsMock(chatlabels_server, base_dir=Path(request.path).parent)
    handle.load(source)
    return handle
