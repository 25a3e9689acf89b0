"""One run of the kit: build the target, check it is usable, run the selected checks.

Argument parsing lives in ``cli.py`` and the pytest plugin; both hand a ``RunOptions`` to
``run()``, which returns the ``Report`` or raises ``CannotRun`` with a one-line reason
(exit status 2). New run modes (a stateful run, say) add a field here and a branch in
``run()``; the checks themselves stay in ``checks.py``.
"""

from __future__ import annotations

import random
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, is_chat_id
from chatlabels.kit.bounds import DEFAULT_MAX_BODY, DEFAULT_MAX_TIME
from chatlabels.kit.checks.endpoint_checks import CHECKS
from chatlabels.kit.context import CheckContext, describe_answer
from chatlabels.kit.dialect import PROVIDER, Dialect
from chatlabels.kit.findings import Report
from chatlabels.kit.judge import Profile
from chatlabels.kit.progress import Progress
from chatlabels.kit.redact import Secrets
from chatlabels.kit.target import Exchange, Target, TargetStopped, TargetUnreachable

__all__ = [
    "DEFAULT_RATE",
    "DEFAULT_TIMEOUT",
    "CannotRun",
    "RunOptions",
    "TargetOptions",
    "effective_rate",
    "limit_words",
    "run",
    "run_on_target",
    "select_checks",
]

#: Requests per second against a remote target when --rate is not given: gentle on a live API.
DEFAULT_RATE = 5.0
#: Seconds each request may take, connect to last byte of the body (--timeout).
DEFAULT_TIMEOUT = 10.0


class CannotRun(Exception):
    """The kit could not judge the target; ``str()`` is the one-line reason."""


class TargetOptions(Protocol):
    """What ``run_on_target`` needs to open a target (``RunOptions``, ``StatefulOptions``)."""

    base_url: str
    instance_id: str
    access_token: str
    rate: float | None
    timeout: float
    max_time: float
    max_body: int


@dataclass
class RunOptions:
    base_url: str
    instance_id: str
    access_token: str = field(repr=False)
    chats: list[str]
    profile: Profile = "strict"
    max_examples: int = 20
    rate: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    seed: int | None = None
    checks: list[str] = field(default_factory=lambda: list(CHECKS))
    max_time: float = DEFAULT_MAX_TIME
    max_body: int = DEFAULT_MAX_BODY
    max_response_time: float | None = None
    only: list[str] | None = None
    skip: list[str] | None = None
    dialect: Dialect = PROVIDER
    progress: Progress = field(default_factory=lambda: Progress(enabled=False), repr=False)


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
        if options.dialect.is_waha:
            raise CannotRun("no API key: pass --api-key or set CHATLABELS_API_KEY")
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
    selected = [name for name in CHECKS if name in options.checks]

    def run_checks(target: Target, report: Report) -> None:
        for name in CHECKS:
            if name not in selected:
                report.skip(name, "not selected")
        if options.max_response_time is None:
            report.skip("answers_within_time_budget", "not selected: no --max-response-time")
        ctx = CheckContext(
            target,
            list(options.chats),
            report,
            options.profile,
            options.max_examples,
            seed,
            max_response_time=options.max_response_time,
        )
        _preflight(ctx)
        report.saw_labels(f"GET {options.dialect.prefix}", ctx.directory_answer().json)
        for chat in options.chats:
            report.saw_labels(chat, ctx.chat_answer(chat).json)
        for index, name in enumerate(selected, 1):
            options.progress.check(index, len(selected), name)
            started = time.monotonic()
            try:
                CHECKS[name].run(ctx)
            finally:
                report.timings[name] = time.monotonic() - started

    return run_on_target(
        options,
        run_checks,
        profile=options.profile,
        seed=seed,
        checks=list(CHECKS),
        secrets=(options.access_token,),
        replay=replay_command(options, seed),
        progress=options.progress,
        dialect=options.dialect,
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
    progress: Progress | None = None,
    dialect: Dialect = PROVIDER,
) -> Report:
    """Open the target, run ``body`` on it into a fresh ``Report``, close it, return the report.

    Shared by the checks and the stateful run, so both refuse a bad URL, an unreachable
    target and count the requests sent the same way. A run that ends early (``--max-time``,
    a target that keeps rate-limiting, Ctrl-C) still returns its report, marked partial:
    the checks it did not reach are skipped with the reason.
    """
    progress = progress or Progress(enabled=False)
    if options.max_time <= 0 or options.max_body <= 0:
        raise CannotRun("--max-time and --max-body must be more than 0")
    try:
        target = Target(
            options.base_url,
            instance_id=options.instance_id,
            access_token=options.access_token,
            rate=effective_rate(options.base_url, options.rate),
            timeout=options.timeout,
            max_body=options.max_body,
            deadline=time.monotonic() + options.max_time,
            secrets=Secrets(secrets),
            watcher=progress,
            dialect=dialect,
        )
    except ValueError as exc:
        raise CannotRun(str(exc)) from None
    report = Report(
        base_url=target.base_url,
        profile=profile,
        seed=seed,
        checks=checks,
        secrets=secrets,
        public=(options.instance_id,),
        replay=replay,
    )
    try:
        body(target, report)
    except TargetUnreachable as exc:
        raise CannotRun(f"{exc}; check --base-url") from None
    except TargetStopped as exc:
        report.stopped = str(exc)
    except KeyboardInterrupt:
        report.stopped, report.interrupted = "interrupted (Ctrl-C)", True
    finally:
        progress.done()
        target.close()
    if report.stopped:
        for name in checks:
            if name not in report.timings and not report.of_check(name):
                report.skip(name, f"not run: the run stopped early ({report.stopped})")
    report.requests_sent = len(target.exchanges)
    report.waits = list(target.waits)
    return report


def _preflight(ctx: CheckContext) -> None:
    """Refuse to judge a target that is not the API or rejects the given credentials: the
    checks would all fail for a reason that is the caller's, not the target's."""
    answer = ctx.directory_answer()
    waha = ctx.target.dialect.is_waha
    if answer.status is None:
        raise CannotRun(f"{answer.error} to {answer.request}: is {ctx.target.base_url} right?")
    if answer.status in {401, 403}:
        what = "--api-key (and --session)" if waha else "--instance-id and the access token"
        raise CannotRun(f"the target answered {answer.status} to {answer.request}: check {what}")
    if answer.status == 422:
        raise CannotRun(
            f"the target answered 422 to {answer.request}: is the session running? "
            f"({describe_answer(answer)})"
        )
    chat = ctx.chat_answer(ctx.chats[0])
    if not any(a.is_json and a.status != 404 for a in (answer, chat)):
        raise CannotRun(
            f"{ctx.target.base_url} does not look like the labels API: {answer.request.method} "
            f"{answer.request.path} answered {_summary(answer)} and Get Chat Labels "
            f"{_summary(chat)}; check --base-url (the part before {ctx.target.dialect.prefix})"
        )


def _summary(answer: Exchange) -> str:
    if answer.status is None:
        return answer.error or "nothing"
    kind = "JSON" if answer.is_json else (answer.content_type.split(";")[0] or "no body")
    if answer.problems and not answer.is_json:
        kind = answer.problems[0].reason
    return f"{answer.status} ({kind})"


def replay_command(options: RunOptions, seed: int) -> str:
    """The command that repeats this run, with every option that shaped it; the token is
    left to CHATLABELS_ACCESS_TOKEN (WAHA's key to CHATLABELS_API_KEY)."""
    words = ["chatlabels", "check", "--base-url", options.base_url]
    if options.dialect.is_waha:  # the key from CHATLABELS_API_KEY
        words += ["--dialect", "waha", "--session", options.dialect.session]
    else:
        words += ["--instance-id", options.instance_id]
    for chat in options.chats:
        words += ["--chat-id", chat]
    words += ["--profile", options.profile, "--max-examples", str(options.max_examples)]
    words += limit_words(options)
    if options.max_response_time is not None:
        words += ["--max-response-time", f"{options.max_response_time:g}"]
    if options.only:
        words += ["--checks", ",".join(options.only)]
    elif options.skip:
        words += ["--skip", ",".join(options.skip)]
    elif list(options.checks) != list(CHECKS):
        words += ["--checks", ",".join(options.checks)]
    words += ["--seed", str(seed)]
    return shlex.join(words)


def limit_words(options: TargetOptions) -> list[str]:
    """``--rate``, ``--timeout``, ``--max-time``, ``--max-body`` where not the default, for a
    replay line (a replay at full speed could get a live account rate-limited)."""
    words = []
    if options.rate is not None:
        words += ["--rate", f"{options.rate:g}"]
    if options.timeout != DEFAULT_TIMEOUT:
        words += ["--timeout", f"{options.timeout:g}"]
    if options.max_time != DEFAULT_MAX_TIME:
        words += ["--max-time", f"{options.max_time:g}"]
    if options.max_body != DEFAULT_MAX_BODY:
        words += ["--max-body", str(options.max_body)]
    return words
