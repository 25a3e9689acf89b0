"""``chatlabels record``: its options, and running it (the work is in ``kit/recording.py``,
imported when the command runs, so that ``chatlabels serve`` starts without the kit's HTTP
client)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from chatlabels.kit.bounds import DEFAULT_MAX_BODY, DEFAULT_MAX_TIME

__all__ = ["PLACEHOLDER_TOKEN", "add_record_command"]

#: The access token written to recorded fixtures instead of the real one.
PLACEHOLDER_TOKEN = "recorded-placeholder-token"


def add_record_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register ``chatlabels record`` on the ``chatlabels`` parser."""
    from chatlabels.kit.cli.check import TOKEN_ENV

    parser = commands.add_parser(
        "record",
        help="write a live account's labels and chat links to a fixture file",
        description="Read an account (GET /v2/labels, the chats per label where served, "
        "the labels of each --chat-id) and write a fixture the mock serves as is. The "
        f"token is not written: the file holds {PLACEHOLDER_TOKEN!r} (see --placeholder). "
        "Exit 0: written; 2: could not record.",
    )
    parser.add_argument(
        "--base-url", required=True, metavar="URL", help="e.g. https://api.wawp.net"
    )
    parser.add_argument("--instance-id", required=True, metavar="ID", help="the instance to record")
    parser.add_argument(
        "--access-token", metavar="TOKEN", help=f"the instance's token (better: set {TOKEN_ENV})"
    )
    parser.add_argument(
        "--chat-id", dest="chats", action="append", default=[], metavar="CHAT",
        help="also record this chat's labels (repeatable)",
    )  # fmt: skip
    parser.add_argument("--out", required=True, metavar="FILE", help="fixture file to write")
    parser.add_argument(
        "--rate", type=float, default=None, metavar="R",
        help="at most R requests per second (default as for check: 5 remote, unthrottled "
        "on loopback)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds per request (10)"
    )
    parser.add_argument(
        "--placeholder", default=PLACEHOLDER_TOKEN, metavar="TOKEN",
        help=f"token written to the fixture (default {PLACEHOLDER_TOKEN})",
    )  # fmt: skip
    parser.add_argument(
        "--max-time", dest="max_time", type=float, default=DEFAULT_MAX_TIME, metavar="S",
        help=f"seconds the whole recording may take (default {DEFAULT_MAX_TIME:g})",
    )  # fmt: skip
    parser.add_argument(
        "--max-body", dest="max_body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
        help=f"bytes of an answer read, after decompression (default {DEFAULT_MAX_BODY})",
    )  # fmt: skip
    parser.add_argument(
        "--dialect", dest="dialect", choices=["provider", "waha"], default="provider",
        help="waha: record a WAHA server's /api/{session}/labels (--session, --api-key)",
    )  # fmt: skip
    parser.add_argument(
        "--session", dest="session", metavar="S", default="default",
        help="WAHA session name (with --dialect waha; default: default)",
    )  # fmt: skip
    parser.add_argument(
        "--api-key", dest="api_key", metavar="K",
        help="WAHA api key (with --dialect waha; better: set CHATLABELS_API_KEY)",
    )  # fmt: skip
    parser.set_defaults(run=_run_record, token_env=TOKEN_ENV)


def _run_record(args: argparse.Namespace) -> int:
    from chatlabels.kit.dialect import PROVIDER
    from chatlabels.kit.dialect import waha as waha_dialect
    from chatlabels.kit.recording import RecordError, record
    from chatlabels.kit.runner import effective_rate
    from chatlabels.kit.target import Target, TargetStopped, TargetUnreachable

    waha = args.dialect == "waha"
    token = args.access_token or os.environ.get(args.token_env, "")
    if waha:
        token = args.api_key or os.environ.get("CHATLABELS_API_KEY", "")
    if not token:
        wanted = (
            "--api-key or set CHATLABELS_API_KEY"
            if waha
            else f"--access-token or set {args.token_env}"
        )
        print(f"chatlabels record: give {wanted}", file=sys.stderr)
        return 2
    try:
        target = Target(
            args.base_url,
            instance_id=args.session if waha else args.instance_id,
            access_token=token,
            rate=effective_rate(args.base_url, args.rate),
            timeout=args.timeout,
            max_body=args.max_body,
            deadline=time.monotonic() + args.max_time,
            dialect=waha_dialect(args.session) if waha else PROVIDER,
        )
        fixture, notes = record(
            target, args.chats, placeholder=args.placeholder, instance_id=args.instance_id
        )
        Path(args.out).write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")
    except KeyboardInterrupt:
        print("chatlabels record: interrupted; nothing written", file=sys.stderr)
        return 130
    except (RecordError, TargetUnreachable, TargetStopped, ValueError) as exc:
        print(
            f"chatlabels record: cannot record: {exc}".replace(token, "[redacted]"), file=sys.stderr
        )
        return 2
    except OSError as exc:
        print(f"chatlabels record: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}")
    [instance] = fixture["instances"]
    print(
        f"recorded {len(instance['labels'])} labels and {len(instance['chats'])} chats to "
        f"{args.out}; its access token is {args.placeholder!r}"
    )
    return 0
