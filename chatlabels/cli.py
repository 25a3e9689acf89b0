"""The ``chatlabels`` command: ``serve`` from the mock, the kit's commands from the kit.

Exit statuses: 0 success, 1 the checked target or file violates the contract, 2 the command
could not run (bad arguments, bad fixture, unreachable target), 130 interrupted (Ctrl-C),
141 stdout closed by its reader (as a command killed by SIGPIPE).
Each room registers its own sub-commands; neither Flask nor the kit's HTTP client loads
until a command runs.

Conventions every sub-command gets here, whoever registered its options:

- every option ``--some-name`` may come from the environment variable
  ``CHATLABELS_SOME_NAME`` (the flag wins); the variables are read when the sub-command's
  own options are parsed, so an option added to any sub-command later gets one too;
- a bad argument or environment value is one line on stderr and exit 2, never a traceback
  or a usage screen.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from chatlabels.kit.cli.check import add_commands
from chatlabels.mock.serving.cli import add_fixtures_command, add_serve_command

__all__ = ["ENV_PREFIX", "build_parser", "env_options", "main"]

ENV_PREFIX = "CHATLABELS_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SECRET = re.compile(r"token|key|secret|password", re.IGNORECASE)


class _EnvList(list[Any]):
    """A repeatable option's values read from the environment: the first flag replaces them."""


class _AppendAction(argparse._AppendAction):
    """``action="append"`` where values from the environment give way to the flags."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if isinstance(getattr(namespace, self.dest, None), _EnvList):
            setattr(namespace, self.dest, [])
        super().__call__(parser, namespace, values, option)


class _SubCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands whose unknown arguments are refused by the sub-command itself.

    argparse hands them back to the top-level parser, whose error named neither the
    sub-command nor the help that lists its options.
    """

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        super().__call__(parser, namespace, values, option)
        unknown = getattr(namespace, argparse._UNRECOGNIZED_ARGS_ATTR, None)
        if unknown:
            self.choices[values[0]].error(f"unrecognized arguments: {' '.join(unknown)}")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with the conventions above (sub-parsers are of this class too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "append", _AppendAction)
        self.register("action", "parsers", _SubCommands)

    def error(self, message: str) -> NoReturn:
        # One line: the usage screen is one --help away, and scripts read stderr line by line.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._read_environment()
        return super().parse_known_args(args, namespace)

    def _read_environment(self) -> None:
        for action, name in env_options(self):
            if action.help and action.help != argparse.SUPPRESS and name not in action.help:
                action.help += f" [env {name}]"
            text = os.environ.get(name)
            if text is not None:
                action.default = self._env_value(action, name, text)
                action.required = False  # given, through the environment

    def _env_value(self, action: argparse.Action, name: str, text: str) -> Any:
        """``text`` converted and checked as the flag's own value would be."""
        shown = "its value" if _SECRET.search(name) else repr(text)
        if action.nargs == 0:  # store_true and friends: a switch
            if text.strip().lower() not in _TRUE | _FALSE:
                self.error(f"{name}={shown} is not a switch value (use 1/0, true/false)")
            return action.const if text.strip().lower() in _TRUE else action.default
        parts = text.split(",") if _many(action) else [text]
        values = [self._converted(action, name, shown, part.strip()) for part in parts]
        if isinstance(action, argparse._AppendAction):
            return _EnvList(values)
        return values if _many(action) else values[0]

    def _converted(self, action: argparse.Action, name: str, shown: str, text: str) -> Any:
        try:
            value = action.type(text) if callable(action.type) else text
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            # the flag's own words (argparse's "invalid int value"), not a builtin's message
            said = str(exc) if isinstance(exc, argparse.ArgumentTypeError) else ""
            said = said or f"invalid {getattr(action.type, '__name__', 'value')} value"
            reason = f": {said}" if shown != "its value" else ""
            self.error(f"{name}={shown} is not a valid {action.option_strings[0]}{reason}")
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            self.error(f"{name}={shown} is not one of {choices}")
        return value


def _many(action: argparse.Action) -> bool:
    return isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")


def env_options(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.Action, str]]:
    """Each option of ``parser`` that the environment can set, with its variable's name."""
    for action in parser._actions:
        longs = [flag for flag in action.option_strings if flag.startswith("--")]
        if longs and not isinstance(action, _NOT_SETTINGS):
            yield action, ENV_PREFIX + longs[0][2:].replace("-", "_").upper()


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked: the metadata costs
    every other command (``serve``'s cold start among them) a tenth of a second."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        import chatlabels

        print(f"chatlabels {chatlabels.__version__}")
        parser.exit()


# Actions that do something rather than set something: never read from the environment (a
# CHATLABELS_VERSION pinning a package in CI must not turn into ``--version``).
_NOT_SETTINGS = (
    argparse._HelpAction,
    argparse._VersionAction,
    argparse._SubParsersAction,
    _Version,
)


def build_parser() -> Parser:
    """The whole command line: every sub-command of every room."""
    parser = Parser(
        prog="chatlabels",
        description="Mock server and contract-test kit for the chat-labels API.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_command(commands)
    add_fixtures_command(commands)
    add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed stdout raises here, not in the interpreter's last flush
        return status
    except KeyboardInterrupt:
        # Ctrl-C: whatever the command was doing, stop without a traceback.
        print("chatlabels: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `chatlabels fixtures | head -1`: the reader is gone, which is no error of ours. Exit as
        # a command killed by SIGPIPE would; stdout goes to devnull so that the interpreter's
        # own flush at exit does not raise again (the Python docs' recipe, signal module).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
