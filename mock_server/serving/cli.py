"""``chatlabels serve`` and ``chatlabels fixtures``: options, checked before anything starts.

Every bad option is one line on stderr and exit 2 before the server is built: a user who
typed ``--threads 0`` or a host that does not resolve learns it at once, not from a server
that prints its ready line and never answers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import socket
import sys
from typing import Any

from chatlabels.contract.fixtures import FixtureError, load_fixture
from chatlabels.contract.resources import bundled_fixtures, find_fixture
from chatlabels.mock.http.logs import LOG_FORMATS, LOG_LEVELS
from chatlabels.mock.limits import (
    DEFAULT_JOURNAL_BYTES,
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_LONG_POLLS,
    DEFAULT_MAX_WAIT_SECONDS,
    DEFAULT_WEBHOOK_QUEUE,
    ServerLimits,
)

__all__ = ["MAX_THREADS", "add_fixtures_command", "add_serve_command"]

#: ``--server`` values (serving/server.py ``SERVERS``, and ``auto`` choosing between them).
SERVER_CHOICES = ("auto", "granian", "waitress")
#: More worker threads than this buy nothing on one process and one lock.
MAX_THREADS = 256
#: Seconds between two looks at a watched fixture file, and the shortest allowed.
DEFAULT_WATCH_INTERVAL = 0.5
MIN_WATCH_INTERVAL = 0.05


def add_serve_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register ``serve`` on the ``chatlabels`` parser (Flask loads only when it runs)."""
    serve = commands.add_parser(
        "serve",
        help="run the mock server on a fixture file",
        description="Serve the chat-labels API from a fixture file. Exit 0 when stopped "
        "(Ctrl-C, SIGTERM); 2 when it cannot start (bad option, invalid fixture, port taken).",
    )
    serve.add_argument(
        "--fixtures",
        default="default",
        metavar="PATH|NAME",
        help="fixture file to serve, or the name of a bundled one (chatlabels fixtures "
        "lists them; default: default)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)"
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=None,
        help=f"worker threads running the app, 1..{MAX_THREADS} (default 8; on granian, "
        "Get Chat Labels is answered on its own thread and never waits for them)",
    )
    serve.add_argument(
        "--server",
        choices=SERVER_CHOICES,
        default="auto",
        help="HTTP server: granian (fast, Rust core) cannot drop a connection without an "
        "answer (fault rules with drop_connection are refused) and answers malformed HTTP "
        "itself with an empty body; waitress does both, about ten times slower; auto "
        "(default) is granian unless the fixture has a drop_connection rule",
    )
    serve.add_argument(
        "--admin-token",
        default=None,
        metavar="TOKEN",
        help="token required on /__admin/; without one, /__admin/ is off when listening "
        "beyond loopback",
    )
    serve.add_argument(
        "--public-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name besides loopback under which /__admin/ may be addressed (repeatable); "
        "any other Host header is refused there, against DNS rebinding",
    )
    serve.add_argument(
        "--max-long-polls",
        type=int,
        default=DEFAULT_MAX_LONG_POLLS,
        metavar="N",
        help=f"long-polls of /__admin/webhooks waiting at once (default {DEFAULT_MAX_LONG_POLLS})",
    )
    serve.add_argument(
        "--max-wait-seconds",
        type=float,
        default=DEFAULT_MAX_WAIT_SECONDS,
        metavar="S",
        help=f"longest long-poll timeout (default {DEFAULT_MAX_WAIT_SECONDS:g})",
    )
    serve.add_argument(
        "--webhook-queue",
        type=int,
        default=DEFAULT_WEBHOOK_QUEUE,
        metavar="N",
        help="webhook deliveries waiting to be sent; beyond, the oldest is dropped and "
        f"logged as dropped (default {DEFAULT_WEBHOOK_QUEUE})",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=DEFAULT_JOURNAL_SIZE,
        metavar="N",
        help=f"requests kept in the journal (default {DEFAULT_JOURNAL_SIZE})",
    )
    serve.add_argument(
        "--journal-bytes",
        type=int,
        default=DEFAULT_JOURNAL_BYTES,
        metavar="N",
        help="bytes (as JSON) the journal's entries may take together "
        f"(default {DEFAULT_JOURNAL_BYTES})",
    )
    for bound in dataclasses.fields(ServerLimits):
        serve.add_argument(
            f"--{bound.name.replace('_', '-')}",
            type=type(bound.default),
            default=bound.default,
            metavar="N" if isinstance(bound.default, int) else "S",
            help=f"{bound.metadata['help']} (default {bound.default})",
        )
    serve.add_argument(
        "--no-cors",
        dest="cors",
        action="store_false",
        help="no CORS headers on the provider dialect (the WAHA dialect keeps them, as WAHA "
        "does): proves a browser page does not depend on them",
    )
    serve.add_argument("--quiet", action="store_true", help="do not log one line per request")
    serve.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log lines as text for people (default) or as JSON objects for log collectors",
    )
    serve.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=None,
        help="least severe lines logged (default info, one line per request; warning with --quiet)",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="reload the fixture file when it changes (validated; a broken edit keeps the "
        "previous state)",
    )
    serve.add_argument(
        "--watch-interval",
        type=float,
        default=DEFAULT_WATCH_INTERVAL,
        metavar="S",
        help=f"seconds between two looks at the watched file, {MIN_WATCH_INTERVAL}..60 "
        f"(default {DEFAULT_WATCH_INTERVAL})",
    )
    serve.set_defaults(run=_run_serve)


def add_fixtures_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register ``fixtures``: the bundled fixtures ``serve --fixtures NAME`` accepts."""
    listing = commands.add_parser(
        "fixtures",
        help="list the bundled fixtures (serve --fixtures NAME)",
        description="List the fixture files shipped with chatlabels, by the name "
        "chatlabels serve --fixtures accepts, with what each sets up.",
    )
    listing.set_defaults(run=_run_fixtures)


def _run_fixtures(args: argparse.Namespace) -> int:
    fixtures = bundled_fixtures()
    width = max(map(len, fixtures))
    for name, path in fixtures.items():
        description = json.loads(path.read_text("utf-8")).get("description", "")
        print(f"{name:{width}}  {description}")
    return 0


def _problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, in one line, or None."""
    if not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a port (0..65535)"
    if args.threads is not None and not 1 <= args.threads <= MAX_THREADS:
        return f"--threads {args.threads} must be from 1 to {MAX_THREADS}"
    for option in (
        "max_long_polls",
        "max_wait_seconds",
        "webhook_queue",
        "journal_size",
        "journal_bytes",
    ):
        if not getattr(args, option) > 0:
            return f"--{option.replace('_', '-')} {getattr(args, option)} must be above 0"
    if not MIN_WATCH_INTERVAL <= args.watch_interval <= 60:
        return f"--watch-interval {args.watch_interval} must be from {MIN_WATCH_INTERVAL} to 60"
    for bad in _limits(args).problems():
        return f"{bad} must be above 0"
    try:
        socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"--host {args.host!r} does not resolve to an address to listen on ({reason})"
    return None


def _run_serve(args: argparse.Namespace) -> int:
    problem = _problem(args)
    if problem:
        print(f"chatlabels serve: {problem}", file=sys.stderr)
        return 2
    path = find_fixture(args.fixtures)
    if path is None:
        names = ", ".join(bundled_fixtures())
        print(
            f"chatlabels serve: --fixtures {args.fixtures}: no such file, nor a bundled "
            f"fixture ({names})",
            file=sys.stderr,
        )
        return 2
    try:
        limits = _limits(args)
        fixture = load_fixture(
            path, max_bytes=limits.max_admin_body_bytes, bounds=limits.report_bounds
        )
    except FixtureError as exc:
        print(f"chatlabels: cannot serve, the fixture file is invalid:\n{exc}", file=sys.stderr)
        return 2

    from chatlabels.mock.serving.server import serve

    return serve(
        fixture,
        host=args.host,
        port=args.port,
        threads=args.threads,
        server_name=args.server,
        admin_token=args.admin_token or None,
        quiet=args.quiet,
        log_format=args.log_format,
        log_level=args.log_level,
        options={
            "public_hosts": tuple(args.public_host),
            "max_long_polls": args.max_long_polls,
            "max_wait_seconds": args.max_wait_seconds,
            "webhook_queue": args.webhook_queue,
            "journal_size": args.journal_size,
            "journal_bytes": args.journal_bytes,
            "limits": _limits(args),
            "cors": args.cors,
        },
        watch=path if args.watch else None,
        watch_interval=args.watch_interval,
    )


def _limits(args: argparse.Namespace) -> ServerLimits:
    return ServerLimits(**{b.name: getattr(args, b.name) for b in dataclasses.fields(ServerLimits)})
