"""chatlabels installed into someone else's project: one import name, plugins that stay out
of the way, and layers that point one way (the kit never loads the mock or Flask)."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules a layer must not load, by the module that is imported.
FORBIDDEN = {
    # the command line of every command, serve's cold start among them: no server, no
    # checks (Hypothesis), no HTTP client, no installed-metadata read until a command runs
    "chatlabels.cli": (
        "flask",
        "waitress",
        "granian",
        "hypothesis",
        "importlib.metadata",
        "http.client",
        "chatlabels.kit.target",
        "chatlabels.kit.recording",
        "chatlabels.kit.runner",
    ),
    "chatlabels.contract": ("flask", "werkzeug", "waitress", "chatlabels.mock", "chatlabels.kit"),
    "chatlabels.kit.cli.check": ("flask", "werkzeug", "waitress", "chatlabels.mock"),
    "chatlabels.kit.runner": ("flask", "werkzeug", "waitress", "chatlabels.mock"),
    "chatlabels.kit.suite.plugin": (
        "flask",
        "requests",
        "hypothesis",
        "jsonschema",
        "chatlabels.mock",
    ),
    "chatlabels.mock.testing.plugin": ("flask", "requests", "hypothesis", "jsonschema", "waitress"),
}


def imported_modules(module: str) -> set[str]:
    """Every module ``import module`` loads in a fresh interpreter (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_a_layer_loads_nothing_above_it(module: str) -> None:
    loaded = imported_modules(module)
    assert module in loaded  # the measurement itself works
    leaked = sorted(
        name
        for name in loaded
        for forbidden in FORBIDDEN[module]
        if name == forbidden or name.startswith(forbidden + ".")
    )
    assert leaked == []


def make_env(tmp_path: Path, install: list[str]) -> Path:
    """A fresh venv that sees this one's dependencies but installs chatlabels itself."""
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Dependencies (Flask, pytest, ...) come from the running venv; chatlabels does not:
    # that venv's editable finder is a .pth hook, and hooks of an added path never run.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            *install,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return python


USER_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--base-url", dest="base_url", default="https://example.invalid")
"""

USER_TEST = """
import requests

import contract_tests.own
import mock_server


def test_own_packages_win(pytestconfig):
    assert contract_tests.own.VALUE == "ours"
    assert mock_server.VALUE == "ours too"
    assert pytestconfig.getoption("base_url") == "https://example.invalid"


def test_the_mock_fixture_is_there(chatlabels_mock):
    answer = requests.get(
        chatlabels_mock.base_url + "/v2/labels/chats/123456789%40c.us",
        params={"instance_id": "123456789", "access_token": "123456789"},
        timeout=10,
    )
    assert answer.json()[0]["name"] == "New Customer"
"""


def user_project(tmp_path: Path) -> Path:
    """A team's project with its own contract_tests/ and mock_server/ and a --base-url."""
    project = tmp_path / "project"
    (project / "contract_tests").mkdir(parents=True)
    (project / "mock_server").mkdir()
    (project / "contract_tests" / "__init__.py").write_text("")
    (project / "contract_tests" / "own.py").write_text('VALUE = "ours"\n')
    (project / "mock_server" / "__init__.py").write_text('VALUE = "ours too"\n')
    (project / "conftest.py").write_text(USER_CONFTEST)
    (project / "tests").mkdir()
    (project / "tests" / "test_project.py").write_text(textwrap.dedent(USER_TEST))
    return project


def run_user_pytest(python: Path, project: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=project,
        env=environment,
    )


def assert_wheel_metadata(wheel: Path) -> None:
    """The license the LICENSE file states, classifiers, project URLs, and the dashboard's
    files inside."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata_name] = [name for name in names if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
        [license_name] = [name for name in names if name.endswith("/licenses/LICENSE")]
        license_text = archive.read(license_name).decode()
    assert metadata["License-Expression"] == "MIT"
    assert license_text == (ROOT / "LICENSE").read_text() and "MIT License" in license_text
    classifiers = metadata.get_all("Classifier")
    assert (
        "Programming Language :: Python :: 3.11" in classifiers and "Typing :: Typed" in classifiers
    )
    urls = metadata.get_all("Project-URL")
    assert "Mocked API: WAHA source, https://github.com/devlikeapro/waha" in urls
    assert all(url.startswith("Mocked API: ") for url in urls)  # never posing as our home
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        assert f"chatlabels/mock/control/dashboard/{name}" in names


@pytest.mark.parametrize("kind", ["wheel", "editable"])
def test_a_user_project_keeps_its_names_and_options(kind: str, tmp_path: Path) -> None:
    if kind == "wheel":
        wheels = tmp_path / "wheels"
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert built.returncode == 0, built.stderr[-2000:]
        (wheel,) = wheels.glob("chatlabels-*.whl")
        assert_wheel_metadata(wheel)
        python = make_env(tmp_path, [str(wheel)])
    else:
        python = make_env(tmp_path, ["-e", str(ROOT)])
    top = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; "
            "print(m.distribution('chatlabels').read_text('top_level.txt') or '')",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    if kind == "wheel":
        assert top.stdout.split() == ["chatlabels"]
    project = user_project(tmp_path)
    done = run_user_pytest(python, project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed" in done.stdout
    # the bundled schemas and fixtures are found from any directory
    found = subprocess.run(
        [
            str(python),
            "-c",
            "from chatlabels.contract.fixtures import DEFAULT_FIXTURE, "
            "load_fixture; from chatlabels.contract import load_schema; "
            "load_fixture(DEFAULT_FIXTURE); load_schema('label.schema.json'); print('ok')",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert found.stdout.strip() == "ok", found.stderr[-2000:]
