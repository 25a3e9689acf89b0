"""The kit for the person watching it: progress on a terminal, Ctrl-C, a curl line per
finding, a replay line that keeps every option, reports to stdout or refused before the
first request, JUnit times, the HTML report, and ``--stateful`` against a guarded mock."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from flask import request

from chatlabels.cli import main
from tests.contract_tests.broken_targets import CHAT, INSTANCE_ID, TOKEN, broken_app, serving


def check_args(url: str, *extra: str) -> list[str]:
    return [
        "check", "--base-url", url, "--instance-id", INSTANCE_ID, "--chat-id", CHAT,
        "--max-examples", "3", "--seed", "3", *extra,
    ]  # fmt: skip


def kit(*args: str, **options: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "CHATLABELS_ACCESS_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "chatlabels", *args], text=True, env=env, **options
    )


def on_a_terminal(breakage: str) -> tuple[int, str, str]:
    """Run the kit against ``broken_app(breakage)`` with stderr on a pseudo-terminal (stdout
    a pipe); its exit status, stdout, and everything drawn on the terminal."""
    master, slave = pty.openpty()
    drawn: list[bytes] = []

    def drain() -> None:  # read as it is drawn: a full terminal buffer would block the kit
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO once the writer is gone and the buffer drained (Linux)
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with serving(broken_app(breakage)) as url:
        process = kit(*check_args(url), stdout=subprocess.PIPE, stderr=slave)
        out, _ = process.communicate(timeout=120)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return process.returncode, out, b"".join(drawn).decode()


def test_progress_is_drawn_on_a_terminal_only() -> None:
    code, out, text = on_a_terminal("none")
    assert code == 0
    assert "[1/16] chat_labels_body_conforms" in text and "requests sent" in text
    assert "\r" in text and "[" not in out.split("\n")[0]  # the report itself is clean
    with serving(broken_app("none")) as url:
        quiet = kit(*check_args(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = quiet.communicate(timeout=120)
    assert err == ""  # not a terminal: nothing drawn


def test_the_progress_line_shows_a_throttle_wait() -> None:
    """The target answers 429 with Retry-After twice (1 s, then an HTTP date a second
    ahead): the terminal shows the wait while it lasts; without a terminal nothing is drawn,
    not even a carriage return, and the report counts the waits either way."""
    code, out, text = on_a_terminal("rate-limited-twice")
    assert code == 0, out
    assert "waiting 1s: the target asked to slow down (Retry-After)" in text
    assert "2 throttled answer(s) waited out" in out
    with serving(broken_app("rate-limited-twice")) as url:
        quiet = kit(*check_args(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = quiet.communicate(timeout=120)
    assert quiet.returncode == 0
    assert err == "" and "\r" not in out and "waiting" not in out
    assert "2 throttled answer(s) waited out" in out


def test_ctrl_c_prints_the_partial_report_and_exits_130() -> None:
    app = broken_app("hang-on-malformed")
    with serving(app) as url:
        process = kit(*check_args(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Into malformed_chat_ids_rejected, each answer 3 s late: the target says when (a
        # fixed 4 s could end before a loaded machine had even started the kit).
        assert app.extensions["hanging"].wait(60)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    assert "partial report: the run stopped early: interrupted (Ctrl-C)" in out
    assert re.search(r"SKIPPED content_type_is_json +\(not run: the run stopped early", out)


def test_each_finding_has_a_curl_line_without_the_token(tmp_path: Path) -> None:
    """The curl line repeats the request with the token from the environment."""
    report = tmp_path / "r.json"
    env = {**os.environ, "CHATLABELS_ACCESS_TOKEN": TOKEN}
    with serving(broken_app("wrong-color-hex")) as url:
        assert main([*check_args(url, "--access-token", TOKEN), "--report-json", str(report)]) == 1
        [finding] = json.loads(report.read_text())["findings"]
        done = subprocess.run(
            ["bash", "-c", finding["curl"]], capture_output=True, text=True, env=env, timeout=30
        )
    assert finding["curl"].startswith("curl -sS -i ") and TOKEN not in finding["curl"]
    assert "access_token=${CHATLABELS_ACCESS_TOKEN}" in finding["curl"]
    assert done.stdout.startswith("HTTP/1.1 200")
    assert '"colorHex":"#dfaef0"' in done.stdout  # the offending value, as the finding says


def test_replay_keeps_rate_timeout_limits_and_skip(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with serving(broken_app("none")) as url:
        args = check_args(url, "--access-token", TOKEN, "--rate", "50", "--timeout", "4")
        args += ["--skip", "auth_is_enforced,answers_are_stable", "--max-time", "300"]
        args += ["--max-response-time", "2", "--report-json", str(report)]
        assert main(args) == 0
    replay = json.loads(report.read_text())["replay"]
    for words in ("--rate 50", "--timeout 4", "--max-time 300", "--max-response-time 2"):
        assert words in replay
    assert "--skip auth_is_enforced,answers_are_stable" in replay and "--checks" not in replay


def test_report_json_dash_writes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(broken_app("none")) as url:
        assert main([*check_args(url, "--access-token", TOKEN), "--report-json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit_code"] == 0
    assert "checks:" in captured.err  # the terminal report moved aside
    assert not Path("-").exists()


@pytest.mark.parametrize("flag", ["--report-json", "--junit-xml", "--report-html"])
def test_an_unwritable_report_path_is_refused_before_any_request(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    app = broken_app("none")
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.path))  # type: ignore[arg-type,func-returns-value]
    with serving(app) as url:
        code = main([*check_args(url, "--access-token", TOKEN), flag, "/nonexistent/dir/r"])
    assert code == 2 and seen == []
    assert f"{flag} /nonexistent/dir/r" in capsys.readouterr().err


def test_junit_testcases_carry_their_time(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    with serving(broken_app("none")) as url:
        assert main([*check_args(url, "--access-token", TOKEN), "--junit-xml", str(junit)]) == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and float(suite.get("time", "x")) > 0
    cases = list(suite.iter("testcase"))
    assert all(float(case.get("time", "x")) >= 0 for case in cases)
    assert sum(case.find("skipped") is not None for case in cases) == int(suite.get("skipped", 0))


def test_html_report_is_self_contained_with_label_badges(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    with serving(broken_app("wrong-color-hex")) as url:
        args = [*check_args(url, "--access-token", TOKEN), "--report-html", str(html)]
        assert main(args) == 1
    page = html.read_text()
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert re.search(r'class="badge" style="background:#ff9485;[^"]*"[^>]*>New Customer<', page)
    assert "color_hex_matches_color" in page and "/1/colorHex" in page
    assert "${CHATLABELS_ACCESS_TOKEN}" in page and TOKEN not in page


def test_stateful_against_a_mock_with_an_admin_token(
    start_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """It used to refuse the mock as "not the chatlabels mock"; now it says what to pass,
    and runs once given --admin-token."""
    server = start_server(admin_token="adm-S3cret-77")
    args = ["check", "--stateful", "--base-url", server.url, "--instance-id", "123456789"]
    args += ["--access-token", "123456789", "--max-examples", "2", "--steps", "5", "--seed", "1"]
    assert main(args) == 2
    assert "pass --admin-token" in capsys.readouterr().err
    assert main([*args, "--admin-token", "adm-S3cret-77"]) == 0
    assert "adm-S3cret-77" not in capsys.readouterr().out


def test_html_report_escapes_what_the_target_sent() -> None:
    from chatlabels.kit.findings import Finding, Report
    from chatlabels.kit.html_report import render_html

    report = Report(base_url="http://127.0.0.1:1", profile="strict", seed=1, checks=["c"])
    report.saw_labels("5511999990000@c.us", [{"id": "1", "name": "<script>x</script>", "color": 2}])
    report.add(Finding("c", None, "/0/name", "a name", '"<img src=x onerror=alert(1)>"'))
    page = render_html(report)
    assert "<script>x" not in page and "<img" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "background:#ffd429" in page
