"""``chatlabels check`` and ``chatlabels validate``: arguments, exit statuses, reports."""

from __future__ import annotations

import json
import socket
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from chatlabels.cli import main
from chatlabels.kit.checks.endpoint_checks import CHECKS
from tests.conftest import FIXTURES_DIR
from tests.contract_tests.broken_targets import CHAT, INSTANCE_ID, TOKEN, broken_app, serving


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check(url: str, *extra: str) -> list[str]:
    return ["check", "--base-url", url, "--instance-id", INSTANCE_ID, "--chat-id", CHAT, *extra]


def test_list_prints_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(CHECKS)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--access-token", "t", "--checks", "no_such_check"], "unknown check no_such_check"),
        (["--access-token", "t", "--skip", ",".join(CHECKS)], "no check left"),
        ([], "no access token"),
        (["--access-token", "t", "--chat-id", "not a chat"], "is not a chat id"),
        (["--access-token", "t", "--max-examples", "0"], "--max-examples"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], reason: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.delenv("CHATLABELS_ACCESS_TOKEN", raising=False)
    assert main(check("http://127.0.0.1:9", *args)) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1


def test_missing_base_url_and_bad_url_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--instance-id", "1", "--chat-id", CHAT, "--access-token", "t"]) == 2
    assert "missing --base-url" in capsys.readouterr().err
    assert main(check("ftp://example.com", "--access-token", "t")) == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_argparse_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--max-examples", "many"])
    assert exc.value.code == 2


def test_unreachable_target_exits_2_without_leaking_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(check(url, "--access-token", TOKEN)) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatlabels check: cannot run: cannot reach") and TOKEN not in err
    assert len(err.strip().splitlines()) == 1


def test_tls_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that answers the TLS handshake with plain text: an immediate TLS error."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_in_plain_text() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS\n" * 10)

        threading.Thread(target=answer_in_plain_text, daemon=True).start()
        url = f"https://127.0.0.1:{listener.getsockname()[1]}"
        assert main(check(url, "--access-token", TOKEN)) == 2
    assert "TLS error" in capsys.readouterr().err


def test_silent_target_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that accepts and never answers: the first request times out, the kit stops."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        assert main(check(url, "--access-token", TOKEN, "--timeout", "0.3")) == 2
    err = capsys.readouterr().err
    assert "no answer within 0.3s to GET /v2/labels" in err and TOKEN not in err


def test_refused_credentials_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(broken_app("none")) as url:
        assert main(check(url, "--access-token", "not-the-token")) == 2
    assert "answered 401" in capsys.readouterr().err


def test_token_from_environment(monkeypatch: Any, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CHATLABELS_ACCESS_TOKEN", TOKEN)
    with serving(broken_app("none")) as url:
        assert main(check(url, "--max-examples", "3")) == 0
    assert "15 passed, 0 failed, 0 warned, 1 skipped" in capsys.readouterr().out


def test_checks_and_skip_select_by_name(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    with serving(broken_app("auth-not-enforced")) as url:
        only = check(
            url, "--access-token", TOKEN, "--checks", "auth_is_enforced,answers_are_stable"
        )
        assert main([*only, "--report-json", str(report)]) == 1
        data = json.loads(report.read_text())
        run = [name for name, status in data["checks"].items() if status != "skipped"]
        assert run == ["answers_are_stable", "auth_is_enforced"]
        assert data["skipped"]["chat_labels_body_conforms"] == "not selected"
        assert data["summary"]["skipped"] == len(CHECKS) - 2
        skipped = check(url, "--access-token", TOKEN, "--skip", "auth_is_enforced")
        assert main([*skipped, "--max-examples", "3", "--report-json", str(report)]) == 0
        data = json.loads(report.read_text())
        assert data["checks"]["auth_is_enforced"] == "skipped"
        assert "--skip auth_is_enforced" in data["replay"] and "--checks" not in data["replay"]


def test_junit_and_json_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    with serving(broken_app("wrong-color-hex")) as url:
        args = check(url, "--access-token", TOKEN, "--seed", "5", "--max-examples", "3")
        assert main([*args, "--junit-xml", str(junit), "--report-json", str(report)]) == 1
    out = capsys.readouterr().out
    assert "1 failed" in out and "pointer:  /1/colorHex" in out and "--seed 5" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(CHECKS))
    failed = [
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == ["color_hex_matches_color"]
    data = json.loads(report.read_text())
    [finding] = data["findings"]
    assert finding["pointer"] == "/1/colorHex" and finding["expected"].startswith("#ffd429")
    assert finding["request"]["query"]["access_token"] == "[redacted]"
    assert data["exit_code"] == 1 and data["seed"] == 5


# --- chatlabels validate -------------------------------------------------------------------


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_validate_valid_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = [{"id": "1", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}]
    assert main(["validate", write(tmp_path, body)]) == 0
    assert "valid chat-labels" in capsys.readouterr().out


def test_validate_prints_each_error_with_its_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = [
        {"id": 1, "name": "a", "color": 0, "colorHex": "#ff9485"},
        {"id": "2", "name": "b", "color": 1, "colorHex": "#ff9485"},
    ]
    assert main(["validate", write(tmp_path, body)]) == 1
    out = capsys.readouterr().out
    assert "/0/id: expected a JSON string" in out
    assert "/1/colorHex: expected #64c4ff" in out


def test_validate_stdin_and_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    import io

    monkeypatch.setattr(
        "sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"status": 401, "message": "no"}'))
    )
    assert main(["validate", "-", "--kind", "error"]) == 1
    assert "<stdin>: [error] /: expected error body" in capsys.readouterr().out
    php = {"0": {"id": "1", "name": "x", "color": 0, "colorHex": "#ff9485"}}
    assert main(["validate", write(tmp_path, php), "--profile", "lenient"]) == 0
    assert "php-object-root" in capsys.readouterr().out


def test_validate_fixture_uses_the_mock_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(FIXTURES_DIR / "default.json"), "--kind", "fixture"]) == 0
    data = json.loads((FIXTURES_DIR / "default.json").read_text())
    data["instances"][0]["chats"]["123456789@c.us"] = ["99"]
    capsys.readouterr()
    assert main(["validate", write(tmp_path, data), "--kind", "fixture"]) == 1
    assert (
        "/instances/0/chats/123456789@c.us/0: label '99' does not exist" in capsys.readouterr().out
    )


def test_validate_says_how_many_problems_it_did_not_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """26 problems: the first 20 listed, then the same closing line as serve's report."""
    data = json.loads((FIXTURES_DIR / "default.json").read_text())
    data["instances"][0]["chats"] = {f"55119{i:08d}@c.us": ["999"] for i in range(26)}
    path = write(tmp_path, data)
    assert main(["validate", path, "--kind", "fixture"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 21 and lines[-1] == f"{path}: and 6 more problems (fix these first)"


@pytest.mark.parametrize("content", [None, "{not json"])
def test_validate_unreadable_or_not_json_exits_2(
    content: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "missing.json") if content is None else write(tmp_path, content)
    assert main(["validate", path]) == 2
    assert capsys.readouterr().err.startswith("chatlabels validate:")
