"""Every ``sh`` block of README.md runs, and prints what the README says it prints.

The blocks run in order, one command at a time, against ``chatlabels serve`` started here,
from a scratch directory that links the repository's ``examples/`` and ``schemas/`` and holds
copies of ``fixtures/``. Adapted, never rewritten by hand:

- ports: 8080 is this module's server; any other port a block names (8081, 9999...) becomes a
  free port, in the commands and in the fixture copies alike;
- each block gets a fresh server on the default fixture, as the README's "with chatlabels
  serve running" means (journal ids start at 1 again);
- ``cmd &`` runs in the background until its first line on stdout (its ready line), and is
  stopped when the block ends; ``sleep`` lines are skipped (readiness is awaited instead);
- mirrored elsewhere, so not re-run: ``pip install`` (done before any test can run),
  ``pytest`` (this run), ``chatlabels serve`` in the foreground (this module's server),
  ``st run`` (tests/mock_server/test_openapi_schemathesis.py).

A comment right after a command is its expected output: compared with whitespace collapsed,
``...`` standing for anything. A command must exit 0 unless that comment says ``exit N``
(the rest of the comment is still its expected output).
The README's Python test module in "pytest fixture" runs under pytester.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAIN_PORT = "8080"
MIRRORED = {
    "python3 -m venv .venv && . .venv/bin/activate": "the virtual environment of this run",
    "pytest": "this test run",
    "chatlabels serve": "this module's server (chatlabels serve --port 0)",
    "st run ...": "tests/mock_server/test_openapi_schemathesis.py",
}
PORT = re.compile(r"(?<=127\.0\.0\.1:)(\d{4,5})\b|(?<=--port )(\d{4,5})\b|(?<=_PORT=)(\d{4,5})\b")


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)

    @property
    def background(self) -> bool:
        return self.text.endswith("&") and not self.text.endswith("&&")


@dataclass
class Block:
    section: str
    line: int
    commands: list[Command]


def fenced(fence: str) -> Iterator[tuple[str, int, list[str]]]:
    """``(section, first line number, lines)`` of every ```fence block of the README."""
    section, lines, start = "", None, 0
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if lines is None:
            if line.startswith("## "):
                section = line[3:].strip()
            elif line.strip() == f"```{fence}":
                lines, start = [], number + 1
        elif line.strip() == "```":
            yield section, start, lines
            lines = None
        else:
            lines.append(line)


def parse_commands(lines: list[str]) -> list[Command]:
    commands: list[Command] = []
    pending = ""
    for line in lines:
        if pending:
            pending += "\n" + line
        elif line.startswith("#"):
            if commands:
                commands[-1].expected.append(line[1:].strip())
            continue
        elif not line.strip():
            continue
        else:
            pending = line
        if not pending.endswith("\\"):
            commands.append(Command(pending.strip()))
            pending = ""
    return commands


def adapt(text: str) -> str | None:
    """The command to run, or None when it is mirrored elsewhere (see MIRRORED)."""
    text = re.sub(r"^pip install [^&]+(&&\s*|$)", "", text).strip()
    if not text or re.fullmatch(r"sleep [\d.]+", text) or text in MIRRORED:
        return None
    return None if text.startswith("st run ") else text


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def first_line(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The first stdout line of a background command (its ready line)."""
    line: list[str] = []
    reader = threading.Thread(
        target=lambda: line.append(process.stdout.readline() if process.stdout else ""),
        daemon=True,
    )
    reader.start()
    reader.join(timeout)
    assert line and line[0], f"no ready line within {timeout} s"
    return line[0].strip()


def start_serve(cwd: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        ["chatlabels", "serve", "--port", "0", "--quiet", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        env=tool_env(),
        start_new_session=True,
    )
    ready = first_line(process)
    assert ready.startswith("chatlabels serving on http://127.0.0.1:"), ready
    return process, ready.rsplit(":", 1)[1]


def tool_env(**extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, **extra}


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture
def main_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh ``chatlabels serve`` on the default fixture, as each block assumes."""
    process, port = start_serve(tmp_path_factory.mktemp("serve"))
    yield port
    stop(process)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("examples", "schemas"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "schemathesis.toml").symlink_to(ROOT / "schemathesis.toml")
    return tmp_path


def matches(expected: str, output: str) -> bool:
    def collapse(text: str) -> str:
        return " ".join(text.split())

    parts = re.split(r"\s*\.\.\.\s*", collapse(expected))
    pattern = ".*?".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, collapse(output), re.DOTALL) is not None


BLOCKS = [Block(section, line, parse_commands(lines)) for section, line, lines in fenced("sh")]


def test_readme_has_the_blocks_this_module_knows_how_to_run() -> None:
    assert len(BLOCKS) >= 10
    assert all(block.commands for block in BLOCKS), "an empty sh block"


@pytest.mark.parametrize(
    "block", BLOCKS, ids=[f"L{b.line}-{b.section.replace(' ', '_')}" for b in BLOCKS]
)
def test_sh_block_runs_as_documented(block: Block, main_port: str, workdir: Path) -> None:
    ports = {MAIN_PORT: main_port}
    for match in PORT.finditer("\n".join(c.text for c in block.commands)):
        ports.setdefault(match.group(0), free_port())
    (workdir / "fixtures").mkdir()
    for fixture in (ROOT / "fixtures").glob("*.json"):
        text = fixture.read_text()
        for old, new in ports.items():
            text = text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
        (workdir / "fixtures" / fixture.name).write_text(text)
    env = tool_env(TMPDIR=str(workdir))
    background: list[subprocess.Popen[str]] = []
    try:
        for command in block.commands:
            text = adapt(command.text)
            if text is None:
                continue
            text = PORT.sub(lambda m: ports[m.group(0)], text)
            where = f"README.md line {block.line}+: {command.text}"
            if command.background:
                process = subprocess.Popen(
                    # exec after any leading VAR=value, so the signal reaches the command
                    ["bash", "-c", re.sub(r"^((?:\w+=\S+\s+)*)", r"\1exec ", text.rstrip("& "))],
                    cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    text=True, start_new_session=True,
                )  # fmt: skip
                background.append(process)
                first_line(process)
                continue
            run = subprocess.run(
                ["bash", "-c", text], cwd=workdir, env=env, capture_output=True, text=True,
                timeout=120,
            )  # fmt: skip
            expected = " ".join(command.expected)
            status = re.search(r"\bexit (\d+)\b", expected)
            assert run.returncode == (int(status.group(1)) if status else 0), (
                f"{where}\nexit {run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
            )
            printed = re.sub(r"\bexit \d+\b", "", expected).strip()
            if printed:
                assert matches(printed, run.stdout), (
                    f"{where}\nexpected: {expected}\nprinted:  {run.stdout[-2000:]}"
                )
    finally:
        for process in background:
            stop(process)


def test_pytest_fixture_section_runs_under_pytester(pytester: pytest.Pytester) -> None:
    [source] = [
        "\n".join(lines) for section, _, lines in fenced("python") if section == "pytest fixture"
    ]
    pytester.makepyfile(test_readme_example=source)
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=source.count("\ndef test_"))


def test_mirrored_commands_have_their_mirror() -> None:
    assert (ROOT / "tests/mock_server/test_openapi_schemathesis.py").is_file()
    assert shutil.which("chatlabels", path=tool_env()["PATH"]) is not None


def test_harness_parses_compares_and_mirrors_as_documented() -> None:
    """The runner itself: a wrong expectation must fail, mirrored commands must be known."""
    first, second = parse_commands(["# intro", "curl -s x \\", "  --data y", "# out ...", "a &"])
    assert (first.text, first.expected, first.background) == (
        "curl -s x \\\n  --data y",
        ["out ..."],
        False,
    )
    assert second.background and not Command("a && b").background
    assert matches('[{"id":"3",...}] ... 10 passed', '[{"id":"3","x":1}]\n 10   passed')
    assert not matches("10 checks: 10 passed", "10 checks: 9 passed")
    assert adapt("pip install -e . && chatlabels serve") is None
    assert adapt("pip install -e '.[test]' && pytest") is None
    assert adapt("sleep 2") is None
    assert adapt("python3 -m venv .venv && . .venv/bin/activate") is None
    assert adapt("st run http://127.0.0.1:8080/openapi.json") is None
    assert adapt("chatlabels serve --port 8081 &") == "chatlabels serve --port 8081 &"
    assert PORT.sub("P", "curl http://127.0.0.1:8080/x --port 9999 127.0.0.2:80") == (
        "curl http://127.0.0.1:P/x --port P 127.0.0.2:80"
    )


def test_the_bundled_fixtures_table_lists_every_bundled_fixture() -> None:
    """Each fixture shipped in fixtures/ (what ``chatlabels fixtures`` lists) has its row."""
    text = README.read_text()
    table = text.split("Bundled fixtures (`fixtures/`):", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"^\| `([^`]+\.json)` \|", table, re.MULTILINE))
    bundled = {path.name for path in (ROOT / "fixtures").glob("*.json")}
    assert listed == bundled
