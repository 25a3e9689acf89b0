"""The kit's verdict on targets that each break the contract in one way, and on correct ones.

Each broken target must make ``chatlabels check`` exit 1 and name the right check and JSON
pointer, and no other check may fail; correct targets (a stub and our own mock) must pass
strict with exit 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatlabels.cli import main
from tests.contract_tests.broken_targets import CHAT, INSTANCE_ID, TOKEN, broken_app, serving

#: breakage -> (failed checks, (check, pointer) that must be among the error findings)
EXPECTED = {
    "auth-not-enforced": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "5xx-on-long-ids": ({"malformed_chat_ids_rejected"}, ("malformed_chat_ids_rejected", "")),
    "html-on-spaces": (
        {"malformed_chat_ids_rejected", "content_type_is_json"},
        ("malformed_chat_ids_rejected", ""),
    ),
    "object-root": ({"chat_labels_body_conforms"}, ("chat_labels_body_conforms", "")),
    "wrong-color-hex": ({"color_hex_matches_color"}, ("color_hex_matches_color", "/1/colorHex")),
    "duplicate-label": ({"label_ids_unique_in_chat"}, ("label_ids_unique_in_chat", "/2/id")),
    "missing-from-directory": ({"labels_in_directory"}, ("labels_in_directory", "/1/id")),
    "renamed-in-directory": ({"labels_in_directory"}, ("labels_in_directory", "/0/name")),
    "flapping": ({"answers_are_stable"}, ("answers_are_stable", "/1/name")),
    "token-echoed": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "text-content-type": ({"content_type_is_json"}, ("content_type_is_json", "")),
    "upper-case-hex": ({"chat_labels_body_conforms"}, ("chat_labels_body_conforms", "/0/colorHex")),
    "extra-field": (
        {"chat_labels_body_conforms"},
        ("chat_labels_body_conforms", "/1/description"),
    ),
    "rejects-lid": ({"well_formed_chat_ids_accepted"}, ("well_formed_chat_ids_accepted", "")),
    "bad-error-body": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "403-for-wrong-token": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "whatsapp-net-unknown": ({"chat_id_forms_agree"}, ("chat_id_forms_agree", "")),
    "header-token-ignored": ({"header_token_accepted"}, ("header_token_accepted", "")),
    "query-chat-id-refused": ({"chat_id_forms_agree"}, ("chat_id_forms_agree", "")),
    "instance-id-optional": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "label-lookup-renamed": ({"label_lookups_agree"}, ("label_lookups_agree", "/name")),
    "chats-with-label-missing": ({"label_lookups_agree"}, ("label_lookups_agree", "")),
    "body-status-differs": ({"auth_is_enforced"}, ("auth_is_enforced", "/status")),
    "empty-token-accepted": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "header-bypass": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "directory-open": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    # issue 11's detection gaps, each failing exactly its check
    "prefix-token": ({"auth_is_enforced"}, ("auth_is_enforced", "")),
    "label-id-500": (
        {"malformed_label_ids_rejected", "content_type_is_json"},
        ("malformed_label_ids_rejected", ""),
    ),
    "label-404-while-listed": ({"label_lookups_agree"}, ("label_lookups_agree", "")),
    "chat-id-form-drift": ({"label_lookups_agree"}, ("label_lookups_agree", "/0/id")),
    "label-list-names-other-chat": ({"label_lookups_agree"}, ("label_lookups_agree", "")),
}


def check_args(url: str, *extra: str) -> list[str]:
    return [
        "check",
        "--base-url",
        url,
        "--instance-id",
        INSTANCE_ID,
        "--access-token",
        TOKEN,
        "--chat-id",
        CHAT,
        "--max-examples",
        "5",
        "--seed",
        "7",
        *extra,
    ]


def run_check(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    report = tmp_path / "report.json"
    code = main(check_args(url, "--report-json", str(report), *extra))
    return code, json.loads(report.read_text())


def errors_of(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["check"], f["pointer"]) for f in report["findings"] if f["severity"] == "error"}


@pytest.mark.parametrize("breakage", sorted(EXPECTED))
def test_each_broken_target_fails_the_right_check(breakage: str, tmp_path: Path) -> None:
    failed, named = EXPECTED[breakage]
    with serving(broken_app(breakage)) as url:
        code, report = run_check(url, tmp_path)
    assert code == 1
    assert {name for name, status in report["checks"].items() if status == "failed"} == failed
    assert named in errors_of(report)


def test_correct_stub_passes_strict(tmp_path: Path) -> None:
    with serving(broken_app("none")) as url:
        code, report = run_check(url, tmp_path, "--max-examples", "30")
    assert (code, report["findings"]) == (0, [])
    assert set(report["checks"].values()) == {"passed", "skipped"}
    assert report["skipped"] == {
        "answers_within_time_budget": "not selected: no --max-response-time"
    }


def test_our_mock_passes_strict(default_server: Any, tmp_path: Path) -> None:
    chats = [
        arg
        for chat in ("5511988887777@c.us", "120363025246125486@g.us", "203251182247977@lid")
        for arg in ("--chat-id", chat)
    ]
    report_path = tmp_path / "r.json"
    code = main(
        [
            "check",
            "--base-url",
            default_server.url,
            "--instance-id",
            "123456789",
            "--access-token",
            "123456789",
            *chats,
            "--report-json",
            str(report_path),
        ]
    )
    report = json.loads(report_path.read_text())
    assert (code, report["findings"]) == (0, [])


@pytest.mark.parametrize("drift", ["object-root", "upper-case-hex", "extra-field"])
def test_lenient_profile_warns_on_known_drifts(drift: str, tmp_path: Path) -> None:
    with serving(broken_app(drift)) as url:
        code, report = run_check(url, tmp_path, "--profile", "lenient")
    assert code == 0
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    names = {"object-root": "php-object-root"}
    assert {f["drift"] for f in warnings} == {
        names.get(drift, drift.replace("field", "label-field"))
    }
    assert report["checks"]["chat_labels_body_conforms"] == "warned"


def test_hypothesis_shrinks_to_a_minimal_failing_request(tmp_path: Path) -> None:
    """Only generated ids with a '7' crash this target; the report shows a shrunk one."""
    with serving(broken_app("5xx-on-seven")) as url:
        code, report = run_check(url, tmp_path, "--max-examples", "100")
        again_code, again = run_check(url, tmp_path, "--max-examples", "100")
    assert code == 1
    [finding] = [f for f in report["findings"] if f["check"] == "malformed_chat_ids_rejected"]
    assert "minimal failing example" in finding["note"] and "--seed 7" in finding["note"]
    chat_path = finding["request"]["path"].removeprefix("/v2/labels/chats/")
    assert "7" in chat_path and len(chat_path) <= 12, chat_path
    assert "--seed 7" in report["replay"]
    assert (again_code, again["findings"]) == (code, report["findings"])  # same seed, same run


def chatlabels(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatlabels", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("breakage", ["object-root", "auth-not-enforced", "5xx-on-long-ids"])
def test_real_cli_exits_1_and_names_the_check(breakage: str, tmp_path: Path) -> None:
    failed, (check, pointer) = EXPECTED[breakage]
    junit = tmp_path / "junit.xml"
    with serving(broken_app(breakage)) as url:
        done = chatlabels(*check_args(url, "--junit-xml", str(junit)))
    assert done.returncode == 1, done.stderr
    assert f"FAILED  {check}" in done.stdout
    assert f"pointer:  {pointer or '/'}" in done.stdout
    assert 'failures="1"' in junit.read_text() or len(failed) > 1
    assert f'name="{check}"' in junit.read_text()


def test_token_never_appears_in_output_or_reports(tmp_path: Path) -> None:
    """A target that echoes tokens in error bodies: the token still never leaks."""
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    env = {**__import__("os").environ, "CHATLABELS_ACCESS_TOKEN": TOKEN}
    with serving(broken_app("token-echoed")) as url:
        args = check_args(url, "--junit-xml", str(junit), "--report-json", str(report))
        args.remove("--access-token")
        args.remove(TOKEN)
        done = chatlabels(*args, env=env)
    assert done.returncode == 1, done.stderr
    assert "the token" in done.stdout
    for text in (done.stdout, done.stderr, junit.read_text(), report.read_text()):
        assert TOKEN not in text
    assert "[redacted]" in done.stdout
