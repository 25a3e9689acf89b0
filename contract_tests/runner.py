"""One run of the kit: build the target, check it is usable, run the selected checks.

Argument parsing lives in ``cli.py`` and the pytest plugin; both hand a ``RunOptions`` to
``run()``, which returns the ``Report`` or raises ``CannotRun`` with a one-line reason
(exit status 2). New run modes (a stateful run, say) add a field here and a branch in
``run()``; the checks themselves stay in ``checks.py``.
"""

from __future__ import annotations

import random
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, is_chat_id
from chatlabels.kit.checks.endpoint_checks import CHECKS
from chatlabels.kit.context import CheckContext
from chatlabels.kit.findings import Report
from chatlabels.kit.judge import Profile
from chatlabels.kit.target import Target, TargetUnreachable

__all__ = [
    "DEFAULT_RATE",
    "CannotRun",
    "RunOptions",
    "TargetOptions",
    "effective_rate",
    "run",
    "run_on_target",
    "select_checks",
]

#: Requests per second against a remote target when --rate is not given: gentle on a live API.
DEFAULT_RATE = 5.0


class CannotRun(Exception):
    """The kit could not judge the target; ``str()`` is the one-line reason."""


class TargetOptions(Protocol):
    """What ``run_on_target`` needs to open a target (``RunOptions``, ``StatefulOptions``)."""

    base_url: str
    instance_id: str
    access_token: str
    rate: float | None
    timeout: float


@dataclass
class RunOptions:
    base_url: str
    instance_id: str
    access_token: str = field(repr=False)
    chats: list[str]
    profile: Profile = "strict"
    max_examples: int = 20
    rate: float | None = None
    timeout: float = 10.0
    seed: int | None = None
    checks: list[str] = field(default_factory=lambda: list(CHECKS))


def select_checks(only: list[str] | None, skip: list[str] | None) -> list[str]:
    """Check names in run order: ``only`` those (default all), minus ``skip``."""
    unknown = sorted({*(only or []), *(skip or [])} - set(CHECKS))
    if unknown:
        raise CannotRun(f"unknown check {', '.join(unknown)}; see chatlabels check --list")
    chosen = [name for name in CHECKS if (not only or name in only) and name not in (skip or [])]
    if not chosen:
        raise CannotRun("no check left to run after --checks/--skip")
    return chosen


def effective_rate(base_url: str, rate: float | None) -> float | None:
    """``rate`` if given; else unthrottled on loopback (your own mock), DEFAULT_RATE elsewhere."""
    if rate is not None:
        return rate or None
    host = urlsplit(base_url).hostname or ""
    loopback = host in {"localhost", "::1"} or host.startswith("127.")
    return None if loopback else DEFAULT_RATE


def run(options: RunOptions) -> Report:
    """Run the selected checks against the target and return every finding."""
    if not options.access_token:
        raise CannotRun("no access token: pass --access-token or set CHATLABELS_ACCESS_TOKEN")
    if not options.chats:
        raise CannotRun("no chat to check: pass at least one --chat-id")
    for chat in options.chats:
        if not is_chat_id(chat):
            raise CannotRun(
                f"--chat-id {chat!r} is not a chat id; accepted: {', '.join(ACCEPTED_FORMS)}"
            )
    if options.max_examples < 1:
        raise CannotRun("--max-examples must be at least 1")
    seed = options.seed if options.seed is not None else random.randrange(2**32)

    def run_checks(target: Target, report: Report) -> None:
        ctx = CheckContext(
            target, list(options.chats), report, options.profile, options.max_examples, seed
        )
        _preflight(ctx)
        for name in options.checks:
            CHECKS[name].run(ctx)

    return run_on_target(
        options,
        run_checks,
        profile=options.profile,
        seed=seed,
        checks=list(options.checks),
        secrets=(options.access_token,),
        replay=replay_command(options, seed),
    )


def run_on_target(
    options: TargetOptions,
    body: Callable[[Target, Report], None],
    *,
    profile: Profile,
    seed: int,
    checks: list[str],
    secrets: tuple[str, ...],
    replay: str,
) -> Report:
    """Open the target, run ``body`` on it into a fresh ``Report``, close it, return the report.

    Shared by the checks and the stateful run, so both refuse a bad URL, an unreachable
    target and count the requests sent the same way.
    """
    try:
        target = Target(
            options.base_url,
            instance_id=options.instance_id,
            access_token=options.access_token,
            rate=effective_rate(options.base_url, options.rate),
            timeout=options.timeout,
        )
    except ValueError as exc:
        raise CannotRun(str(exc)) from None
    report = Report(
        base_url=target.base_url,
        profile=profile,
        seed=seed,
        checks=checks,
        secrets=secrets,
        replay=replay,
    )
    try:
        body(target, report)
    except TargetUnreachable as exc:
        raise CannotRun(str(exc)) from None
    finally:
        target.close()
    report.requests_sent = len(target.exchanges)
    return report


def _preflight(ctx: CheckContext) -> None:
    """Refuse to judge a target that rejects the given credentials: the checks would all
    fail for a reason that is the caller's, not the target's."""
    answer = ctx.directory_answer()
    if answer.status is None:
        raise CannotRun(f"{answer.error} to {answer.request}: is {ctx.target.base_url} right?")
    if answer.status in {401, 403}:
        raise CannotRun(
            f"the target answered {answer.status} to {answer.request}: "
            "check --instance-id and the access token"
        )
    if answer.status == 422:
        raise CannotRun(
            f"the target answered 422 to {answer.request}: is the instance's session running?"
        )


def replay_command(options: RunOptions, seed: int) -> str:
    """The command that repeats this run; the token is left to CHATLABELS_ACCESS_TOKEN."""
    words = ["chatlabels", "check", "--base-url", options.base_url]
    words += ["--instance-id", options.instance_id]
    for chat in options.chats:
        words += ["--chat-id", chat]
    words += ["--profile", options.profile, "--max-examples", str(options.max_examples)]
    if list(options.checks) != list(CHECKS):
        words += ["--checks", ",".join(options.checks)]
    words += ["--seed", str(seed)]
    return shlex.join(words)
