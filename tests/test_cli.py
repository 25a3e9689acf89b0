"""The ``chatlabels`` command's conventions, as a user meets them: ``--version``, help on
every option, an environment variable for every option (the flag wins), one line and exit 2
for anything wrong, Ctrl-C without a traceback. Commands run as real processes."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from chatlabels import __version__
from chatlabels.cli import build_parser, env_options
from chatlabels.contract.fixtures import MAX_FIXTURE_BYTES
from chatlabels.contract.resources import bundled_fixtures

ROOT = Path(__file__).resolve().parent.parent
CHATLABELS = str(Path(sys.executable).parent / "chatlabels")
READY = re.compile(r"^chatlabels serving on (http://127\.0\.0\.1:\d+)$")
DOCS = {"instance_id": "123456789", "access_token": "123456789"}


def sub_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def env_table() -> str:
    """The README's table of environment variables, as the parser defines them."""
    rows: dict[tuple[str, str], list[str]] = {}
    for command, parser in sub_parsers().items():
        for action, name in env_options(parser):
            flag = next(f for f in action.option_strings if f.startswith("--"))
            rows.setdefault((name, flag), []).append(command)
    lines = ["| variable | option | commands |", "|---|---|---|"]
    for (name, flag), commands in sorted(rows.items()):
        lines.append(f"| `{name}` | `{flag}` | {', '.join(commands)} |")
    return "\n".join(lines)


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATLABELS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        **kwargs,  # type: ignore[arg-type]
    )


def one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    "command", [[CHATLABELS], [sys.executable, "-m", "chatlabels"]], ids=["script", "-m"]
)
def test_version_from_the_script_and_python_m(command: list[str]) -> None:
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, f"chatlabels {__version__}")


def test_version_reads_no_environment_variable() -> None:
    """CI often sets CHATLABELS_VERSION to pin the package: no command may read it."""
    pinned = {"CHATLABELS_VERSION": "0.1.0"}
    assert run("fixtures", env=pinned).returncode == 0
    assert "CHATLABELS_VERSION" not in run("--help", env=pinned).stdout


def test_every_option_has_help_naming_its_environment_variable() -> None:
    for command, parser in sub_parsers().items():
        parser.format_help()  # the environment is read, and help completed, on parsing
        parser._read_environment()  # type: ignore[attr-defined]
        for action, name in env_options(parser):
            assert action.help and action.help != argparse.SUPPRESS, (command, action.dest)
            assert name in action.help, (command, action.dest)
    assert {"serve", "check", "validate", "record", "fixtures"} <= set(sub_parsers())


def test_readme_lists_every_environment_variable() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = re.search(r"<!-- env-table:.*?-->\n(.*?)\n<!-- /env-table -->", readme, re.DOTALL)
    assert table is not None
    assert table.group(1) == env_table(), "README's table is stale; it should read:\n" + env_table()


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["serve", "--threads", "0"], {}, "--threads 0"),
        (["serve", "--port", "70000"], {}, "--port 70000"),
        (["serve", "--port", "x"], {}, "--port"),
        (["serve", "--host", "no-such-host.invalid"], {}, "does not resolve"),
        (["serve", "--host", "192.0.2.1", "--port", "0"], {}, "cannot listen"),
        (["serve", "--fixtures", "no-such-fixture"], {}, "full-account"),
        (
            ["serve", "--bogus"],
            {},
            "chatlabels serve: unrecognized arguments: --bogus (see chatlabels serve --help)",
        ),
        (["--bogus", "serve"], {}, "chatlabels: unrecognized arguments: --bogus (see chatlabels"),
        (["serve"], {"CHATLABELS_THREADS": "many"}, "CHATLABELS_THREADS='many'"),
        (
            ["serve"],
            {"CHATLABELS_PORT": "abc"},
            "CHATLABELS_PORT='abc' is not a valid --port: invalid int value (see",
        ),
        (["serve"], {"CHATLABELS_QUIET": "maybe"}, "CHATLABELS_QUIET"),
        (["validate", "-"], {"CHATLABELS_KIND": "nope"}, "CHATLABELS_KIND='nope'"),
        (["check", "--profile", "loose"], {}, "--profile"),
        (["record", "--out", "x.json"], {}, "--base-url"),
        (["no-such-command"], {}, "no-such-command"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    args: list[str], env: dict[str, str], says: str
) -> None:
    assert says in one_line_exit_2(run(*args, env=env))


def test_a_secret_from_the_environment_is_never_echoed() -> None:
    # --rate is no secret, but a value that fails for a secret-named option is not shown
    stderr = one_line_exit_2(
        run("serve", env={"CHATLABELS_ADMIN_TOKEN": "s3cret", "CHATLABELS_PORT": "p"})
    )
    assert "s3cret" not in stderr


def test_port_in_use_is_one_line(default_server: object) -> None:
    port = str(default_server.port)  # type: ignore[attr-defined]
    assert "cannot listen" in one_line_exit_2(run("serve", "--port", port))


@pytest.fixture
def serve() -> Iterator[object]:
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> str:
        process = subprocess.Popen(
            [CHATLABELS, "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "CHATLABELS_PORT": "0", **(env or {})},
        )
        processes.append(process)
        line = process.stdout.readline().strip() if process.stdout else ""
        match = READY.match(line)
        assert match, line
        return match.group(1)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)


def labels_count(url: str) -> int:
    return len(requests.get(f"{url}/v2/labels", params=DOCS, timeout=5).json())


def test_bundled_fixtures_by_name_and_the_listing() -> None:
    listing = run("fixtures")
    assert listing.returncode == 0
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    assert names == list(bundled_fixtures()) and "full-account" in names


@pytest.mark.parametrize("name", ["full-account", "full-account.json"])
def test_serve_a_bundled_fixture_by_name(serve, name: str) -> None:  # type: ignore[no-untyped-def]
    assert labels_count(serve("--fixtures", name)) == 20


def test_environment_sets_an_option_and_the_flag_wins(serve) -> None:  # type: ignore[no-untyped-def]
    assert labels_count(serve(env={"CHATLABELS_FIXTURES": "full-account"})) == 20
    flag = serve("--fixtures", "default", env={"CHATLABELS_FIXTURES": "full-account"})
    assert labels_count(flag) == 9
    assert serve("--port", "0", env={"CHATLABELS_PORT": "1"})  # flag over a port it cannot use


def test_a_file_of_the_users_wins_over_a_bundled_name(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "full-account.json").write_text(
        '{"instances": [{"id": "123456789", "token": "123456789"}]}'
    )
    process_cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert labels_count(serve("--fixtures", "full-account.json")) == 0
    finally:
        os.chdir(process_cwd)


@pytest.fixture
def hanging_target() -> Iterator[tuple[str, list[socket.socket]]]:
    """A listener that accepts and never answers: a command against it waits."""
    held: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)

        def accept() -> None:
            while True:
                try:
                    held.append(listener.accept()[0])
                except OSError:
                    return

        threading.Thread(target=accept, daemon=True).start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", held
    for connection in held:
        connection.close()


@pytest.mark.parametrize("command", ["check", "record", "validate"])
def test_ctrl_c_stops_any_command_without_a_traceback(
    command: str, tmp_path: Path, hanging_target: tuple[str, list[socket.socket]]
) -> None:
    url, accepted = hanging_target
    args = {
        "check": [
            "check",
            "--base-url",
            url,
            "--instance-id",
            "1",
            "--chat-id",
            "1",
            "--timeout",
            "60",
        ],
        "record": [
            "record",
            "--base-url",
            url,
            "--instance-id",
            "1",
            "--out",
            str(tmp_path / "r.json"),
            "--timeout",
            "60",
        ],
        "validate": ["validate", "-"],
    }[command]
    process = subprocess.Popen(
        [CHATLABELS, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHATLABELS_ACCESS_TOKEN": "t0k3n"},
    )
    waiting_for_stdin = f"/proc/{process.pid}/syscall"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until it waits on the target, or on stdin
        if command != "validate" and accepted:
            break
        if command == "validate" and Path(waiting_for_stdin).read_text().startswith(
            ("0 0x0 ", "63 0x0 ")
        ):
            break  # read(0, ...) on x86_64 or aarch64
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "t0k3n" not in stdout + stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_validate_reads_as_serve_does_a_regular_file_within_the_bound(tmp_path: Path) -> None:
    """A device, a FIFO, a file or stdin over the bound: one line and exit 2, at once."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FIXTURE_BYTES + 1))
    for path in ("/dev/zero", str(fifo)):
        assert "not a regular file" in one_line_exit_2(run("validate", path, timeout=20))
    assert "directory" in one_line_exit_2(run("validate", str(tmp_path), timeout=20))
    assert "over the limit" in one_line_exit_2(run("validate", str(big), timeout=20))
    with open("/dev/zero", "rb") as endless:
        stderr = one_line_exit_2(run("validate", "-", stdin=endless, timeout=20))
    assert stderr.startswith("chatlabels validate: cannot read <stdin>: over the limit"), stderr


@pytest.mark.parametrize(
    "args",
    [["fixtures"], ["validate", str(ROOT / "fixtures" / "default.json"), "--kind", "fixture"]],
)
def test_a_closed_stdout_is_exit_141_without_a_traceback(args: list[str]) -> None:
    """``chatlabels fixtures | head -c 10``: the reader left before the command wrote."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [CHATLABELS, *args], stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")


def test_serve_help_says_the_grace_period_follows_ctrl_c_too() -> None:
    [grace] = [a for a in sub_parsers()["serve"]._actions if a.dest == "grace_seconds"]
    assert grace.help and "SIGINT (Ctrl-C) or SIGTERM" in grace.help
