"""``chatlabels check --dialect waha`` and ``record --dialect waha``: the mock's WAHA dialect
passes strict; WAHA stubs each breaking one documented behaviour fail the right check;
engine drifts (WEBJS chat objects, NOWEB JIDs, a 403 for a wrong key) are errors in strict
and named warnings in lenient; the key never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatlabels.cli import main
from chatlabels.mock import load_fixture
from tests.conftest import default_fixture_data
from tests.contract_tests.broken_targets import serving
from tests.contract_tests.broken_waha import API_KEY, CHAT, SESSION, broken_waha_app

#: breakage -> (failed checks, (check, pointer) among the error findings, lenient drift)
EXPECTED: dict[str, tuple[set[str], tuple[str, str], str | None]] = {
    "key-not-enforced": ({"auth_is_enforced"}, ("auth_is_enforced", ""), None),
    "401-without-status-code": ({"auth_is_enforced"}, ("auth_is_enforced", ""), None),
    "wrong-color-hex": (
        {"color_hex_matches_color"},
        ("color_hex_matches_color", "/1/colorHex"),
        None,
    ),
    "chats-by-label-missing": ({"label_lookups_agree"}, ("label_lookups_agree", ""), None),
    "403-for-wrong-key": ({"auth_is_enforced"}, ("auth_is_enforced", ""), "auth-status"),
    "webjs-chat-objects": (
        {"label_lookups_agree"},
        ("label_lookups_agree", "/0/id"),
        "engine-chat-object",
    ),
    "noweb-jid-form": ({"label_lookups_agree"}, ("label_lookups_agree", "/0/id"), "chat-id-form"),
}


def waha_args(url: str, *extra: str, chat: str = CHAT, key: str = API_KEY) -> list[str]:
    return [
        "check", "--dialect", "waha", "--base-url", url, "--session", SESSION,
        "--api-key", key, "--chat-id", chat, "--max-examples", "3", "--seed", "5", *extra,
    ]  # fmt: skip


def run_json(args: list[str], tmp_path: Path) -> tuple[int, Any]:
    report = tmp_path / "report.json"
    code = main([*args, "--report-json", str(report)])
    return code, json.loads(report.read_text())


def failed_checks(report: Any) -> set[str]:
    return {name for name, status in report["checks"].items() if status == "failed"}


def test_a_correct_waha_stub_passes_strict(tmp_path: Path) -> None:
    with serving(broken_waha_app("none")) as url:
        code, report = run_json(waha_args(url), tmp_path)
    assert (code, report["findings"]) == (0, [])
    assert report["skipped"]["header_token_accepted"].startswith("not in the WAHA dialect")
    assert "src/api/labels.controller.ts" in report["skipped"]["malformed_chat_ids_rejected"]
    assert "--dialect waha --session default" in report["replay"]


@pytest.mark.parametrize(
    ("engine", "drift"),
    [("GOWS", None), ("WEBJS", "engine-chat-object"), ("NOWEB", "chat-id-form")],
)
def test_the_mocks_waha_dialect_passes_for_each_engine(
    engine: str, drift: str | None, start_server: Any, tmp_path: Path
) -> None:
    """GOWS answers as documented: strict passes. WEBJS (WAHA's default) and NOWEB list a
    label's chats their own way: strict names the drift, lenient passes with it."""
    fixture = default_fixture_data()
    fixture["instances"][0]["engine"] = engine
    server = start_server(fixture)
    chats = ["5511988887777@c.us", "120363025246125486@g.us", "203251182247977@lid"]
    args = waha_args(server.url, key="123456789", chat=chats[0])
    for chat in chats[1:]:
        args += ["--chat-id", chat]
    code, report = run_json(args, tmp_path)
    if drift is None:
        assert (code, report["findings"]) == (0, [])
        return
    assert code == 1 and {f["drift"] for f in report["findings"]} == {drift}
    code, report = run_json([*args, "--profile", "lenient"], tmp_path)
    assert code == 0 and {f["severity"] for f in report["findings"]} == {"warning"}


@pytest.mark.parametrize("breakage", sorted(EXPECTED))
def test_each_broken_waha_target_fails_the_right_check(breakage: str, tmp_path: Path) -> None:
    failed, named, drift = EXPECTED[breakage]
    with serving(broken_waha_app(breakage)) as url:
        code, report = run_json(waha_args(url), tmp_path)
        lenient_code, lenient = run_json(waha_args(url, "--profile", "lenient"), tmp_path)
    assert code == 1
    assert failed_checks(report) == failed
    errors = {(f["check"], f["pointer"]) for f in report["findings"] if f["severity"] == "error"}
    assert named in errors
    if drift is not None:  # an engine difference: named, tolerated in lenient
        assert lenient_code == 0, lenient["findings"]
        assert {f["drift"] for f in lenient["findings"]} == {drift}


def test_the_api_key_never_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serving(broken_waha_app("webjs-chat-objects")) as url:
        code, report = run_json(waha_args(url, "--junit-xml", str(tmp_path / "j.xml")), tmp_path)
    out = capsys.readouterr().out
    assert code == 1 and "X-Api-Key: ${CHATLABELS_API_KEY}" in out
    for text in (out, json.dumps(report), (tmp_path / "j.xml").read_text()):
        assert API_KEY not in text


def test_a_wrong_waha_key_exits_2_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with serving(broken_waha_app("none")) as url:
        assert main(waha_args(url, key="not-the-key-at-all")) == 2
    assert "check --api-key" in capsys.readouterr().err


def test_record_a_waha_session_replays_in_the_mock(tmp_path: Path) -> None:
    out = tmp_path / "waha.json"
    with serving(broken_waha_app("webjs-chat-objects")) as url:
        args = ["record", "--dialect", "waha", "--base-url", url, "--session", SESSION]
        args += ["--api-key", API_KEY, "--instance-id", "77", "--out", str(out)]
        assert main(args) == 0
    fixture = json.loads(out.read_text())
    [instance] = fixture["instances"]
    assert instance["session"] == SESSION and instance["chats"] == {CHAT: ["1", "2"]}
    assert API_KEY not in out.read_text()
    load_fixture(out)  # the mock serves it as is
