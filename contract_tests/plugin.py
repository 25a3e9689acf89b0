"""pytest plugin: the contract checks as a pytest suite for your own CI.

    pytest --pyargs contract_tests --base-url URL --instance-id ID --chat-id CHAT \
        [--access-token TOKEN] [--contract-profile lenient] [--junitxml report.xml]

Registered through the ``pytest11`` entry point, so it loads in every pytest run of an
environment where chatlabels is installed; it only adds options and fixtures, and the suite
(``contract_tests/test_contract.py``) skips unless ``--base-url`` is given. The kit runs once
per session; each check is one test, so JUnit XML gets one test case per check.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["contract_report", "pytest_addoption"]

_TOKEN_ENV = "CHATLABELS_ACCESS_TOKEN"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatlabels-contract", "chatlabels contract suite")
    known = _registered_options(parser)
    options: list[tuple[str, dict[str, Any]]] = [
        ("--base-url", {"help": "target base URL, e.g. https://api.wawp.net"}),
        ("--instance-id", {"help": "instance_id of the target account"}),
        (
            "--access-token",
            {"help": f"the instance's token (better: set {_TOKEN_ENV}); never printed"},
        ),
        (
            "--chat-id",
            {"action": "append", "default": [], "help": "a chat to read (repeatable)"},
        ),
        ("--contract-profile", {"choices": ["strict", "lenient"], "default": "strict"}),
        ("--contract-max-examples", {"type": int, "default": 20, "metavar": "N"}),
        ("--contract-rate", {"type": float, "default": None, "metavar": "R"}),
        ("--contract-seed", {"type": int, "default": None, "metavar": "N"}),
    ]
    if importlib.util.find_spec("pytest_base_url") is not None:
        # pytest-base-url (pulled in by pytest-playwright, pytest-selenium) registers
        # --base-url itself, whichever plugin loads first: share its option, never clash.
        known.add("--base-url")
    for name, spec in options:
        if name not in known:
            group.addoption(name, dest=name[2:].replace("-", "_"), **spec)


def _registered_options(parser: pytest.Parser) -> set[str]:
    """Option names other plugins already registered (best effort, pytest internals)."""
    groups = [*getattr(parser, "_groups", []), getattr(parser, "_anonymous", None)]
    return {
        name
        for group in groups
        if group is not None
        for option in getattr(group, "options", [])
        for name in option.names()
    }


@pytest.fixture(scope="session")
def contract_report(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The kit's ``Report`` for the target given on the command line (run once)."""
    from .runner import CannotRun, RunOptions, run

    config = request.config
    base_url = config.getoption("base_url", default=None)
    if not base_url:
        pytest.skip("contract suite: pass --base-url (and --instance-id, --chat-id) to run it")
    options = RunOptions(
        base_url=base_url,
        instance_id=config.getoption("instance_id") or "",
        access_token=config.getoption("access_token") or os.environ.get(_TOKEN_ENV, ""),
        chats=list(config.getoption("chat_id") or []),
        profile=config.getoption("contract_profile"),
        max_examples=config.getoption("contract_max_examples"),
        rate=config.getoption("contract_rate"),
        seed=config.getoption("contract_seed"),
    )
    try:
        yield run(options)
    except CannotRun as exc:
        pytest.fail(f"chatlabels contract suite cannot run: {exc}", pytrace=False)
