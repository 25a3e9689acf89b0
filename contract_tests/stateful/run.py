"""The model-based test: random sequences of label calls, every answer held to a model.

A Hypothesis ``RuleBasedStateMachine`` drives a target over HTTP (create/update/delete
label, link/unlink, WAHA's full replace, every read, and, on the mock, reset) while a plain
``LabelModel`` says what each call must do. After every step every read must match the
model, order included, and be schema-valid; on a mock whose instance has webhooks, the
deliveries must be the model's events, in order, and none for a no-op. A failing run is
shrunk to a minimal sequence of calls, shown with the seed that replays it.

Run it with ``chatlabels check --stateful`` or ``run_stateful(StatefulOptions(...))``.
"""

from __future__ import annotations

import os
import random
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, is_chat_id
from chatlabels.kit.bounds import DEFAULT_MAX_BODY, DEFAULT_MAX_TIME
from chatlabels.kit.cli.check import target_fields
from chatlabels.kit.dialect import PROVIDER, Dialect, waha
from chatlabels.kit.findings import Finding, Report
from chatlabels.kit.judge import shown
from chatlabels.kit.progress import Progress
from chatlabels.kit.runner import (
    DEFAULT_TIMEOUT,
    CannotRun,
    limit_words,
    run_on_target,
)
from chatlabels.kit.stateful.machine import LabelsMachine, Steps, machine_for
from chatlabels.kit.stateful.session import (
    AdminTokenNeeded,
    LabelsApi,
    SnapshotFailed,
    SnapshotShape,
    restore,
    take_snapshot,
)
from chatlabels.kit.target import OutOfTime, Target, TargetUnreachable

__all__ = [
    "API_KEY_ENV",
    "STATEFUL_CHECKS",
    "LabelsMachine",
    "StatefulOptions",
    "machine_for",
    "options_from_args",
    "run_stateful",
]

API_KEY_ENV = "CHATLABELS_API_KEY"

SCHEMA_CHECK = "stateful_schema_conformance"

RESTORE = "stateful_restore"

#: Why a check that judged no answer in the whole run has nothing to judge (it is then
#: SKIPPED, not PASSED): no step reached it, or the run changed nothing to restore.
NOTHING_JUDGED = {
    "stateful_model_agreement": "no call of the run was compared with the model",
    "stateful_schema_conformance": "no label answer was read",
    "stateful_webhook_agreement": "no change of the run was compared with the webhook log",
    RESTORE: "the account accepted no change of the run, so there was nothing to put back",
}

#: The checks a stateful run reports under, with what each enforces.
STATEFUL_CHECKS = {
    "stateful_model_agreement": "every answer (status, body, order) is what the model predicts",
    "stateful_schema_conformance": "every label answer is schema-valid, colorHex == PALETTE[color]",
    "stateful_webhook_agreement": "the mock's webhook deliveries are the model's events, in order",
    "stateful_restore": "a live account is left as it was found",
}


@dataclass
class StatefulOptions:
    base_url: str
    instance_id: str
    access_token: str = field(repr=False)
    chats: list[str] = field(default_factory=list)
    session: str | None = None
    api_key: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    allow_writes: bool = False
    max_examples: int = 20
    steps: int = 30
    rate: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    seed: int | None = None
    max_time: float = DEFAULT_MAX_TIME
    max_body: int = DEFAULT_MAX_BODY
    #: The target's dialect. WAHA's: ``instance_id`` is the session, ``access_token`` the key
    #: (``session``/``api_key`` are then unused: they add WAHA's calls beside the provider's).
    dialect: Dialect = PROVIDER
    progress: Progress = field(default_factory=lambda: Progress(enabled=False), repr=False)


def options_from_args(args: Any) -> StatefulOptions:
    """``chatlabels check --stateful`` arguments as options; secrets may come from the env."""
    fields = target_fields(args)
    api_key = args.api_key or (os.environ.get(API_KEY_ENV) if args.session else None)
    admin_token = args.admin_token or os.environ.get("CHATLABELS_ADMIN_TOKEN") or None
    if args.dialect == "waha":
        fields.update(instance_id=args.session, access_token=api_key or "")
        return StatefulOptions(
            **fields,
            dialect=waha(args.session),
            allow_writes=args.allow_writes,
            steps=args.steps,
            admin_token=admin_token,
        )
    return StatefulOptions(
        **fields,
        session=args.session,
        api_key=api_key,
        allow_writes=args.allow_writes,
        steps=args.steps,
        admin_token=admin_token,
    )


def run_stateful(options: StatefulOptions) -> Report:
    """Run the state machine against the target; raise ``CannotRun`` if it may not or cannot."""
    _validate(options)
    chosen_seed = options.seed if options.seed is not None else random.randrange(2**32)

    def run_machine(target: Target, report: Report) -> None:
        api = LabelsApi(target, options.session, options.api_key, options.admin_token)
        try:
            _run(api, options, report, chosen_seed)
        finally:
            _strict_json_findings(target, report)

    return run_on_target(
        options,
        run_machine,
        profile="strict",
        seed=chosen_seed,
        checks=list(STATEFUL_CHECKS),
        secrets=tuple(s for s in (options.access_token, options.api_key, options.admin_token) if s),
        replay=replay_command(options, chosen_seed),
        progress=options.progress,
        dialect=options.dialect,
    )


def _strict_json_findings(target: Target, report: Report) -> None:
    """What a strict reader refused in any answer (a byte-order mark, a repeated key, NaN),
    named as such: the model compares parsed values, so these would pass unseen."""
    seen = 0
    for exchange in target.exchanges:
        for problem in exchange.problems:
            if seen < 5:
                expected = "strict JSON (RFC 8259)"
                found = f"{exchange.status}: {problem.reason}"
                report.add(
                    Finding(SCHEMA_CHECK, exchange.request, problem.pointer, expected, found)
                )
            seen += 1


def _validate(options: StatefulOptions) -> None:
    if not options.access_token:
        if options.dialect.is_waha:
            raise CannotRun("no API key: pass --api-key or set CHATLABELS_API_KEY")
        raise CannotRun("no access token: pass --access-token or set CHATLABELS_ACCESS_TOKEN")
    if options.max_examples < 1 or options.steps < 1:
        raise CannotRun("--max-examples and --steps must be at least 1")
    if not options.dialect.is_waha and bool(options.session) != bool(options.api_key):
        raise CannotRun("WAHA calls need both --session and --api-key (or neither)")
    for chat in options.chats:
        if not is_chat_id(chat):
            raise CannotRun(f"--chat-id {chat!r} is not a chat id; accepted: {ACCEPTED_FORMS}")


def _run(api: LabelsApi, options: StatefulOptions, report: Report, chosen_seed: int) -> None:
    try:
        mock = api.is_mock()
    except AdminTokenNeeded:
        if not options.allow_writes:
            token = (
                "it refused the --admin-token given (or CHATLABELS_ADMIN_TOKEN): pass the one "
                if options.admin_token
                else "pass --admin-token (or set CHATLABELS_ADMIN_TOKEN) as "
            )
            raise CannotRun(
                f"{api.target.base_url} is the chatlabels mock with a guarded control API: "
                f"{token}given to chatlabels serve, or --allow-writes to test it as a live API"
            ) from None
        mock = False  # --allow-writes without the token: a live API, restored after
    if not mock and not options.allow_writes:
        raise CannotRun(
            f"{api.target.base_url} is not the chatlabels mock (no /__admin/health), so the "
            "stateful test will not write to it; pass --allow-writes to run it anyway "
            "(it restores what it changes)"
        )
    if not mock and not options.chats:
        raise CannotRun("against a live API pass --chat-id for each chat the run may label")
    _preflight(api)
    if mock:
        api.admin("POST", "reset")
    try:
        snapshot = take_snapshot(api)
    except SnapshotFailed as exc:
        raise CannotRun(f"cannot read the starting state: {exc}") from None
    except SnapshotShape as exc:  # a shape error is a finding, named for what it is
        found = shown(exc.found)
        report.add(Finding(SCHEMA_CHECK, exc.answer.request, exc.pointer, exc.expected, found))
        for name in STATEFUL_CHECKS:
            report.skip(name, "not run: the starting state is not label-shaped")
        return
    instance = api.mock_instance() if mock else {}
    webhooks = list(instance.get("webhooks", []))
    if mock:
        report.skip(RESTORE, "not needed: the mock is reset after the run")
    if not webhooks:
        reason = "no webhooks in the instance's fixture" if mock else "only the mock's are read"
        report.skip("stateful_webhook_agreement", f"nothing to judge: {reason}")
    machine = machine_for(
        api,
        snapshot,
        mock=mock,
        chats=options.chats,
        webhooks=webhooks,
        instance_id=str(instance.get("id", "")),
    )
    failure = _search(machine, options, chosen_seed)
    if failure is not None:
        report.add(failure)
    judged = machine.steps_log.judged | ({RESTORE} if _changed_anything(api.target) else set())
    if mock:
        api.admin("POST", "reset")
    else:
        for problem in restore(api, snapshot):
            report.add(Finding(RESTORE, None, "", "the state found at the start", problem))
    for name, why in NOTHING_JUDGED.items():
        if name not in judged and not report.of_check(name):
            report.skip(name, f"nothing to judge: {why}")


def _changed_anything(target: Target) -> bool:
    """Whether the target accepted any write of the run (a restore then has work to judge)."""
    return any(
        exchange.request.method != "GET"
        and not exchange.request.path.startswith("/__admin/")
        and exchange.status is not None
        and 200 <= exchange.status < 300
        for exchange in target.exchanges
    )


def _preflight(api: LabelsApi) -> None:
    """Refuse to run when the credentials are refused: every step would fail for that."""
    side = [api.side_waha_directory()] if api.has_side_waha else []
    for answer in [api.directory(), *side]:
        if answer.status in {401, 403, 404, 422}:
            what = "the instance id, the access token," if not api.dialect.is_waha else "the"
            raise CannotRun(
                f"the target answered {answer.status} to {answer.request}: check {what} "
                "--session and --api-key (and that the session is WORKING)"
            )


def _search(machine: type[LabelsMachine], options: StatefulOptions, chosen_seed: int) -> Any:
    """Run the machine under Hypothesis; the minimal failure as a Finding, or None."""
    steps: Steps = machine.steps_log
    run_settings = settings(
        max_examples=options.max_examples,
        stateful_step_count=options.steps,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    factory: Callable[[], LabelsMachine] = seed(chosen_seed)(lambda: machine())
    try:
        with with_reporter(lambda _text: None):
            # Hypothesis calls its argument to build each machine; it need not be a class.
            run_state_machine_as_test(cast("type[LabelsMachine]", factory), settings=run_settings)
    except TargetUnreachable:
        raise
    except Flaky as exc:
        if machine.api.target.out_of_time:
            # --max-time ended an example midway, so its replay ran differently: Hypothesis
            # calls that flaky, but it is the run stopping (reported as such, partial), not
            # the target. It was reported as "the target is flaky" on slow machines.
            raise OutOfTime("--max-time reached") from None
        return Finding(
            "stateful_model_agreement",
            None,
            "",
            "the same answers on replay",
            f"a failure did not repeat on replay ({type(exc).__name__}); the target is flaky",
            note=_steps_note(steps, chosen_seed),
        )
    except AssertionError as exc:
        finding = getattr(exc, "finding", None) or Finding(
            "stateful_model_agreement", None, "", "no failure", str(exc)
        )
        return replace(finding, note=_steps_note(steps, chosen_seed))
    return None


def _steps_note(steps: Steps, chosen_seed: int) -> str:
    lines = [
        f"minimal failing sequence ({len(steps.lines)} lines), replay with --seed {chosen_seed}:"
    ]
    return "\n".join(lines + [f"    {line}" for line in steps.lines])


def replay_command(options: StatefulOptions, chosen_seed: int) -> str:
    """The command that repeats this run; secrets are left to the environment."""
    words = ["chatlabels", "check", "--stateful", "--base-url", options.base_url]
    if options.dialect.is_waha:  # the key from CHATLABELS_API_KEY
        words += ["--dialect", "waha", "--session", options.dialect.session]
    else:
        words += ["--instance-id", options.instance_id]
    for chat in options.chats:
        words += ["--chat-id", chat]
    if options.session and not options.dialect.is_waha:
        words += ["--session", options.session]  # the key from CHATLABELS_API_KEY
    if options.allow_writes:
        words.append("--allow-writes")
    words += ["--max-examples", str(options.max_examples), "--steps", str(options.steps)]
    words += limit_words(options)
    words += ["--seed", str(chosen_seed)]
    return shlex.join(words)
