"""``pytest --pyargs chatlabels.kit.suite``: the contract suite as users run it in their CI."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from chatlabels.kit.checks.endpoint_checks import CHECKS
from tests.contract_tests.broken_targets import CHAT, INSTANCE_ID, TOKEN, broken_app, serving


def pytest_pyargs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the shipped suite in a fresh process from a directory with no project config."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "chatlabels.kit.suite",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_suite_skips_without_base_url(tmp_path: Path) -> None:
    done = pytest_pyargs("-q", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert f"{len(CHECKS)} skipped" in done.stdout


def test_suite_passes_on_our_mock_with_junit(default_server: Any, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    done = pytest_pyargs(
        *("--chatlabels-base-url", default_server.url, "--chatlabels-instance-id", "123456789"),
        *("--chatlabels-access-token", "123456789"),
        *("--chatlabels-chat-id", "5511988887777@c.us"),
        f"--junitxml={junit}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout
    names = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert names == {f"test_contract[{name}]" for name in CHECKS}


def test_suite_fails_the_broken_check_only_and_hides_the_token(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    with serving(broken_app("token-echoed")) as url:
        done = pytest_pyargs(
            *("--base-url", url, "--instance-id", INSTANCE_ID, "--access-token", TOKEN),
            *("--chat-id", CHAT, "--contract-max-examples", "3", f"--junitxml={junit}"),
            cwd=tmp_path,
        )
    assert done.returncode == 1
    assert "FAILED" in done.stdout and "test_contract[auth_is_enforced]" in done.stdout
    # answers_within_time_budget: skipped, no budget given
    assert f"{len(CHECKS) - 2} passed, 1 skipped" in done.stdout
    assert TOKEN not in done.stdout + done.stderr + junit.read_text()


def test_earlier_spellings_work_where_free_and_yield_to_a_user_conftest(
    default_server: Any, tmp_path: Path
) -> None:
    """The unprefixed options still work; a conftest.py that owns --base-url keeps it."""
    (tmp_path / "conftest.py").write_text(
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--base-url', dest='base_url', default='mine')\n"
    )
    done = pytest_pyargs(
        *("--chatlabels-base-url", default_server.url, "--instance-id", "123456789"),
        *("--access-token", "123456789", "--chat-id", "5511988887777@c.us"),
        *("--contract-max-examples", "3", "-q"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(CHECKS) - 1} passed, 1 skipped" in done.stdout
