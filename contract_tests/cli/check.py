"""Commands of the contract-test kit, registered on the ``chatlabels`` parser.

Parsing only: ``check`` hands a ``RunOptions`` to ``runner.run`` and renders the report;
``validate`` hands a document to ``validate.validate_document``. Exit statuses: 0 passed,
1 the target or file violates the contract, 2 the command could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from chatlabels.kit.cli.record import add_record_command
from chatlabels.kit.progress import Progress

__all__ = ["TOKEN_ENV", "add_commands", "target_fields"]

TOKEN_ENV = "CHATLABELS_ACCESS_TOKEN"


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the kit's sub-commands (check, validate) on ``commands``."""
    _add_check(commands)
    _add_validate(commands)
    add_record_command(commands)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _add_check(commands: argparse._SubParsersAction[Any]) -> None:
    check = commands.add_parser(
        "check",
        help="check a target (the live API, the mock, a stub) against the contract",
        description="Run the contract checks against a target. Exit 0: every check passed; "
        "1: the target violates the contract; 2: the checks could not run.",
    )
    check.add_argument("--list", action="store_true", help="list the checks and exit")
    check.add_argument("--base-url", metavar="URL", help="e.g. https://api.wawp.net")
    check.add_argument("--instance-id", metavar="ID", help="the instance to read, e.g. 123456789")
    check.add_argument(
        "--access-token",
        metavar="TOKEN",
        help=f"the instance's token (better: set {TOKEN_ENV}); never printed or recorded",
    )
    check.add_argument(
        "--chat-id",
        dest="chats",
        action="append",
        default=[],
        metavar="CHAT",
        help="a chat to read (repeatable), e.g. 5511999990000@c.us",
    )
    check.add_argument(
        "--profile",
        choices=["strict", "lenient"],
        default="strict",
        help="strict: the documented contract (default); lenient: known drifts are warnings",
    )
    check.add_argument(
        "--max-examples",
        type=int,
        default=20,
        metavar="N",
        help="generated requests per Hypothesis-driven check (default 20)",
    )
    check.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="R",
        help="at most R requests per second; 0 unthrottled (default: 5 for a remote "
        "target, unthrottled on loopback)",
    )
    check.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per request (10)"
    )
    check.add_argument("--seed", type=int, default=None, help="replay a run's random choices")
    _add_stateful_flags(check)
    _add_run_limits(check)
    check.add_argument("--checks", type=_names, metavar="A,B", help="run only these checks")
    check.add_argument("--skip", type=_names, metavar="A,B", help="do not run these checks")
    check.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report")
    check.add_argument(
        "--report-json", metavar="PATH", help="also write a JSON report (- for stdout)"
    )
    check.set_defaults(run=_run_check)


def _add_run_limits(check: argparse.ArgumentParser) -> None:
    """Options that bound a run and the reports it writes (issue 11)."""
    from chatlabels.kit.bounds import DEFAULT_MAX_BODY, DEFAULT_MAX_TIME

    check.add_argument(
        "--max-time",
        dest="max_time",
        type=float,
        default=DEFAULT_MAX_TIME,
        metavar="S",
        help=f"seconds the whole run may take; then a partial report and exit 2 "
        f"(default {DEFAULT_MAX_TIME:g})",
    )
    check.add_argument(
        "--max-body",
        dest="max_body",
        type=int,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"bytes of an answer read, after decompression; a larger one is a finding "
        f"(default {DEFAULT_MAX_BODY})",
    )
    check.add_argument(
        "--max-response-time",
        dest="max_response_time",
        type=float,
        default=None,
        metavar="S",
        help="an answer slower than S seconds is a finding (default: not judged)",
    )
    check.add_argument(
        "--dialect",
        dest="dialect",
        choices=["provider", "waha"],
        default="provider",
        help="provider: /v2/labels with --instance-id and the access token (default); waha: "
        "a WAHA server's /api/{session}/labels with --session and --api-key",
    )
    check.add_argument(
        "--report-html",
        dest="report_html",
        metavar="PATH",
        help="also write a self-contained HTML report, for a browser",
    )


def _run_check(args: argparse.Namespace) -> int:
    from chatlabels.kit.checks.endpoint_checks import CHECKS
    from chatlabels.kit.runner import CannotRun, RunOptions, run, select_checks

    if args.list:
        width = max(map(len, CHECKS))
        for check in CHECKS.values():
            print(f"{check.name:{width}}  {check.summary}")
        return 0
    waha = args.dialect == "waha"
    needed = ("base_url", "session") if waha else ("base_url", "instance_id")
    missing = [opt for opt in needed if not getattr(args, opt)]
    try:
        if missing:
            flags = ", ".join("--" + m.replace("_", "-") for m in missing)
            raise CannotRun(f"missing {flags}")
        _check_report_paths(args)
        if args.stateful:
            from chatlabels.kit.stateful.run import options_from_args, run_stateful

            report = run_stateful(options_from_args(args))
            return _show(report, args)
        fields = target_fields(args)
        if waha:
            from chatlabels.kit.dialect import waha as waha_dialect

            key = args.api_key or os.environ.get("CHATLABELS_API_KEY", "")
            fields.update(instance_id=args.session, access_token=key)
            fields["dialect"] = waha_dialect(args.session)
        options = RunOptions(
            **fields,
            profile=args.profile,
            checks=select_checks(args.checks, args.skip),
            max_response_time=args.max_response_time,
            only=args.checks,
            skip=args.skip,
        )
        report = run(options)
    except CannotRun as exc:
        print(f"chatlabels check: cannot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the run began (a run catches its own)
        print("chatlabels check: interrupted", file=sys.stderr)
        return 130
    return _show(report, args)


def _check_report_paths(args: argparse.Namespace) -> None:
    """Refuse a report path that cannot be written before the first request is sent, so a
    long run does not end in "cannot write the report"."""
    from chatlabels.kit.runner import CannotRun

    for flag in ("junit_xml", "report_json", "report_html"):
        path = getattr(args, flag, None)
        if not path or (path == "-" and flag == "report_json"):
            continue
        where = Path(path)
        parent = where.parent if str(where.parent) else Path(".")
        option = "--" + flag.replace("_", "-")
        if where.is_dir():
            raise CannotRun(f"{option} {path} is a directory")
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise CannotRun(f"{option} {path}: cannot write in {parent}")
        if where.exists() and not os.access(where, os.W_OK):
            raise CannotRun(f"{option} {path}: the file is not writable")


def target_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ``check`` arguments a checks run and a stateful run share, as option fields;
    the token may come from the environment."""
    return {
        "base_url": args.base_url,
        "instance_id": args.instance_id,
        "access_token": args.access_token or os.environ.get(TOKEN_ENV, ""),
        "chats": list(args.chats),
        "max_examples": args.max_examples,
        "rate": args.rate,
        "timeout": args.timeout,
        "seed": args.seed,
        "max_time": args.max_time,
        "max_body": args.max_body,
        "progress": Progress(),
    }


def _show(report: Any, args: argparse.Namespace) -> int:
    """Print the report (to stderr when the JSON report takes stdout), write the files."""
    from chatlabels.kit.html_report import write_html
    from chatlabels.kit.report import render_terminal, write_json, write_junit

    print(render_terminal(report), file=sys.stderr if args.report_json == "-" else sys.stdout)
    try:
        if args.junit_xml:
            write_junit(report, args.junit_xml)
        if args.report_json:
            write_json(report, args.report_json)
        if args.report_html:
            write_html(report, args.report_html)
    except OSError as exc:
        print(f"chatlabels check: cannot write the report: {exc}", file=sys.stderr)
        return 2
    exit_code: int = report.exit_code
    return exit_code


def _add_stateful_flags(check: argparse.ArgumentParser) -> None:
    group = check.add_argument_group(
        "stateful model test (chatlabels.kit/stateful.py)",
        "--stateful runs random sequences of label calls against a model instead of the checks; "
        "--max-examples is then the number of sequences",
    )
    group.add_argument("--stateful", action="store_true", help="run the model-based test")
    group.add_argument(
        "--allow-writes",
        action="store_true",
        help="write to a target that is not the mock (restores what it changes)",
    )
    group.add_argument("--steps", type=int, default=30, metavar="N", help="calls per sequence")
    group.add_argument("--session", metavar="S", help="WAHA session name (enables WAHA calls)")
    group.add_argument(
        "--api-key", metavar="K", help="WAHA api key (better: set CHATLABELS_API_KEY)"
    )
    group.add_argument(
        "--admin-token",
        dest="admin_token",
        metavar="T",
        help="the mock's --admin-token, when its control API is guarded (or set "
        "CHATLABELS_ADMIN_TOKEN)",
    )


def _add_validate(commands: argparse._SubParsersAction[Any]) -> None:
    from chatlabels.contract.fixtures import MAX_FIXTURE_BYTES
    from chatlabels.kit.cli.validate import KINDS

    validate = commands.add_parser(
        "validate",
        help="validate saved JSON (a recorded response, a fixture) against the schemas",
        description="Print each problem with its JSON pointer. Exit 0: valid; 1: invalid; "
        "2: the file cannot be read (a FIFO, device or directory; over "
        f"{MAX_FIXTURE_BYTES} bytes, stdin too) or is not JSON.",
    )
    validate.add_argument("file", metavar="FILE|-", help="a JSON file, or - for stdin")
    validate.add_argument(
        "--kind", choices=KINDS, default="chat-labels", help="what FILE holds (default chat-labels)"
    )
    validate.add_argument(
        "--profile",
        choices=["strict", "lenient"],
        default="strict",
        help="strict: the documented contract (default); lenient: known drifts are warnings",
    )
    validate.set_defaults(run=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from chatlabels.contract.bounded_read import read_at_most, read_regular_file
    from chatlabels.contract.fixtures import MAX_FIXTURE_BYTES
    from chatlabels.contract.problems import and_more
    from chatlabels.kit.cli.validate import validate_document

    name = "<stdin>" if args.file == "-" else args.file
    try:
        if args.file == "-":
            raw = read_at_most(sys.stdin.buffer, MAX_FIXTURE_BYTES)
        else:
            raw = read_regular_file(args.file, MAX_FIXTURE_BYTES)
        data = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        print(f"chatlabels validate: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"chatlabels validate: {name} is not JSON: {exc}", file=sys.stderr)
        return 2
    problems, more = validate_document(data, args.kind, profile=args.profile)
    for problem in problems:
        print(f"{name}: [{problem.severity}] {problem}")
    if more:
        print(f"{name}: {and_more(more)}")
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        print(f"{name}: valid {args.kind}" + (" (with warnings)" if problems else ""))
    return 1 if errors else 0
