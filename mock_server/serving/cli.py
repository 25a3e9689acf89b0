"""``chatlabels serve``: parse the options, validate the fixture, start the server."""

from __future__ import annotations

import argparse
import os
import sys

from chatlabels.contract.fixtures import DEFAULT_FIXTURE, FixtureError, load_fixture

__all__ = ["add_serve_command"]


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``serve`` on the ``chatlabels`` parser (Flask loads only when it runs)."""
    serve = commands.add_parser("serve", help="run the mock server on a fixture file")
    serve.add_argument(
        "--fixtures",
        default=str(DEFAULT_FIXTURE),
        metavar="PATH",
        help="fixture file to serve (default: the bundled fixtures/default.json)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)"
    )
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    serve.add_argument(
        "--admin-token",
        default=None,
        metavar="TOKEN",
        help="token required on /__admin/ (also CHATLABELS_ADMIN_TOKEN); "
        "without one, /__admin/ is off when listening beyond loopback",
    )
    serve.add_argument("--quiet", action="store_true", help="do not log one line per request")
    serve.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from chatlabels.mock.serving.server import serve

    try:
        fixture = load_fixture(args.fixtures)
    except FixtureError as exc:
        print(f"chatlabels: cannot serve, the fixture file is invalid:\n{exc}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"chatlabels: --port {args.port} is not a port (0..65535)", file=sys.stderr)
        return 2
    return serve(
        fixture,
        host=args.host,
        port=args.port,
        threads=args.threads,
        admin_token=args.admin_token or os.environ.get("CHATLABELS_ADMIN_TOKEN") or None,
        quiet=args.quiet,
    )
