"""pytest plugin: the contract checks as a pytest suite for your own CI.

    pytest --pyargs chatlabels.kit.suite --chatlabels-base-url URL \
        --chatlabels-instance-id ID --chatlabels-chat-id CHAT [--chatlabels-profile lenient]

Registered through the ``pytest11`` entry point, so it loads in every pytest run of an
environment where chatlabels is installed. It therefore costs nothing there: it imports only
pytest, its options all start with ``--chatlabels-`` so they never collide with a user's own,
and the suite (``test_contract.py``) skips unless a base URL is given. The kit runs once per
session; each check is one test, so JUnit XML gets one test case per check.

The spellings of earlier versions (``--base-url``, ``--instance-id``, ``--access-token``,
``--chat-id``, ``--contract-profile``, ...) still work where nobody else claims them: they
are added after the initial conftest files and other plugins registered theirs, and any that
is taken is left to its owner. ``--base-url`` of pytest-base-url (pulled in by
pytest-playwright and pytest-selenium) is read as the base URL when ours is not given.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any

import pytest

__all__ = ["contract_report", "pytest_addoption", "pytest_load_initial_conftests"]

_TOKEN_ENV = "CHATLABELS_ACCESS_TOKEN"
_GROUP = "chatlabels-contract"

#: (option name after ``--chatlabels-``, its earlier spelling, argparse keywords)
_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("base-url", "--base-url", {"help": "target base URL, e.g. https://api.wawp.net"}),
    ("instance-id", "--instance-id", {"help": "instance_id of the target account"}),
    (
        "access-token",
        "--access-token",
        {"help": f"the instance's token (better: set {_TOKEN_ENV}); never printed"},
    ),
    (
        "chat-id",
        "--chat-id",
        {"action": "append", "default": [], "help": "a chat to read (repeatable)"},
    ),
    ("profile", "--contract-profile", {"choices": ["strict", "lenient"], "default": "strict"}),
    ("max-examples", "--contract-max-examples", {"type": int, "default": 20, "metavar": "N"}),
    ("rate", "--contract-rate", {"type": float, "default": None, "metavar": "R"}),
    ("seed", "--contract-seed", {"type": int, "default": None, "metavar": "N"}),
]


def _dest(name: str) -> str:
    return "chatlabels_" + name.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(_GROUP, "chatlabels contract suite")
    for name, _, spec in _OPTIONS:
        group.addoption(f"--chatlabels-{name}", dest=_dest(name), **spec)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(parser: pytest.Parser) -> Generator[None, None, None]:
    """Add the earlier spellings once the user's conftest files have claimed theirs."""
    yield
    known = _registered_options(parser)
    group = parser.getgroup(_GROUP)
    for name, legacy, spec in _OPTIONS:
        if legacy not in known:
            # The default lives on the --chatlabels- spelling; an alias must not reset it.
            alias = {key: value for key, value in spec.items() if key != "default"}
            group.addoption(legacy, dest=_dest(name), **alias, default=None)


def _registered_options(parser: pytest.Parser) -> set[str]:
    """Option names other plugins and conftest files already registered (pytest internals)."""
    groups = [*getattr(parser, "_groups", []), getattr(parser, "_anonymous", None)]
    return {
        name
        for group in groups
        if group is not None
        for option in getattr(group, "options", [])
        for name in option.names()
    }


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(_dest(name), default=None)


@pytest.fixture(scope="session")
def contract_report(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The kit's ``Report`` for the target given on the command line (run once)."""
    from chatlabels.kit.runner import CannotRun, RunOptions, run

    config = request.config
    base_url = _option(config, "base-url") or config.getoption("base_url", default=None)
    if not base_url:
        pytest.skip(
            "contract suite: pass --chatlabels-base-url (and --chatlabels-instance-id, "
            "--chatlabels-chat-id) to run it"
        )
    options = RunOptions(
        base_url=base_url,
        instance_id=_option(config, "instance-id") or "",
        access_token=_option(config, "access-token") or os.environ.get(_TOKEN_ENV, ""),
        chats=list(_option(config, "chat-id") or []),
        profile=_option(config, "profile") or "strict",
        max_examples=_option(config, "max-examples") or 20,
        rate=_option(config, "rate"),
        seed=_option(config, "seed"),
    )
    try:
        yield run(options)
    except CannotRun as exc:
        pytest.fail(f"chatlabels contract suite cannot run: {exc}", pytrace=False)
