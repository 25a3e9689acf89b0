"""A real headless browser for the tests that need one: Debian's ``chromium``, driven by
Playwright (the PyPI package, never ``playwright install``: the browser is the system's).

A test asks for the ``browser`` fixture; where Playwright or the browser is missing, it is
skipped with the reason printed (``-ra``), so a machine without them still runs the rest.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

#: Where Debian's package puts the browser; CHATLABELS_TEST_CHROMIUM names another.
CHROMIUM = (
    os.environ.get("CHATLABELS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)

#: Headless as root in a sandboxed machine with no network: no sandbox, no GPU, and nothing
#: that calls home (each of those is a refused connection here, and slow).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per test session (per xdist worker); a new page per test."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except sync_api.Error as exc:
            pytest.skip(f"{CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (no cookies or storage shared between tests)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()
