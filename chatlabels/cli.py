"""The ``chatlabels`` command: ``serve`` from the mock, the kit's commands from the kit.

Exit statuses: 0 success, 1 the checked target or file violates the contract, 2 the command
could not run (bad arguments, bad fixture, unreachable target). Each room registers its own
sub-commands; neither Flask nor the kit's HTTP client loads until a command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from chatlabels.kit.cli.check import add_commands
from chatlabels.mock.serving.cli import add_serve_command

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chatlabels",
        description="Mock server and contract-test kit for the chat-labels API.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_commands(commands)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)
