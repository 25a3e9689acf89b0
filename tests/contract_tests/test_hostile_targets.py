"""Issue 11's table, one test per row: the kit against real, imperfect targets ends in an
honest verdict, in bounded time and memory, and never leaks a secret.

Hostile targets are small servers on 127.0.0.1 (``hostile_targets`` for what no WSGI server
would send, ``broken_targets`` for the rest). Memory is measured in a fresh interpreter
(``run_measured``): the kit must stay under 200 MiB whatever the target sends.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chatlabels.cli import main
from chatlabels.kit.target import Target
from tests.contract_tests import hostile_targets as hostile
from tests.contract_tests.broken_targets import (
    CHAT,
    INSTANCE_ID,
    OTHER_CHAT,
    TOKEN,
    broken_app,
    serving,
)

MEMORY_MIB = 200


def check_args(url: str, *extra: str, token: str = TOKEN) -> list[str]:
    return [
        "check", "--base-url", url, "--instance-id", INSTANCE_ID, "--access-token", token,
        "--chat-id", CHAT, "--max-examples", "3", "--seed", "3", *extra,
    ]  # fmt: skip


def run_json(url: str, tmp_path: Path, *extra: str, token: str = TOKEN) -> tuple[int, Any]:
    report = tmp_path / "report.json"
    code = main(check_args(url, "--report-json", str(report), *extra, token=token))
    return code, json.loads(report.read_text())


# -- throttling ----------------------------------------------------------------------------


def test_retry_after_is_waited_out_in_seconds_and_as_a_date(tmp_path: Path) -> None:
    """The first two answers are 429 with Retry-After (1, then an HTTP date): waited out and
    retried, counted in the report, and no check fails for it."""
    with serving(broken_app("rate-limited-twice")) as url:
        code, report = run_json(url, tmp_path)
    assert code == 0, report["findings"]
    assert report["throttled"]["waits"] == 2 and report["throttled"]["seconds"] >= 1


def test_a_target_that_keeps_refusing_exits_2_rate_limited(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hostile.raw_server(hostile.throttled("1")) as url:
        started = time.monotonic()
        assert main(check_args(url)) == 2
    out = capsys.readouterr().out
    assert "rate-limited" in out and "--rate" in out and "partial report" in out
    assert time.monotonic() - started < 30


def test_a_retry_after_beyond_the_bound_gives_up_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hostile.raw_server(hostile.throttled("3600")) as url:
        started = time.monotonic()
        assert main(check_args(url)) == 2
    assert "asked to wait 3600s" in capsys.readouterr().out
    assert time.monotonic() - started < 10


def test_a_bare_429_backs_off_exponentially() -> None:
    with hostile.raw_server(hostile.throttled("")) as url:
        target = Target(url, instance_id=INSTANCE_ID, access_token=TOKEN, backoff=0.01)
        with pytest.raises(Exception, match="rate-limited"):
            target.directory()
    assert target.waits == [0.01 * 2**n for n in range(5)]


# -- not the API at all, nothing to judge --------------------------------------------------


def test_a_base_url_answering_404_everywhere_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hostile.raw_server(hostile.not_found_html) as url:
        assert main(check_args(url)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not look like the labels API" in err
    assert "check --base-url" in err


def test_checks_with_nothing_to_judge_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """A chat without labels: the label checks are SKIPPED, not PASSED."""
    with serving(broken_app("none")) as url:
        report_path = tmp_path / "r.json"
        args = check_args(url, "--report-json", str(report_path))
        args[args.index(CHAT)] = OTHER_CHAT
        assert main(args) == 0
    report = json.loads(report_path.read_text())
    for name in ("color_hex_matches_color", "label_ids_unique_in_chat", "labels_in_directory"):
        assert report["checks"][name] == "skipped"
        assert report["skipped"][name].startswith("nothing to judge")
    assert report["summary"]["skipped"] == 4  # and answers_within_time_budget


# -- bounded runs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("respond", "says"),
    [
        (hostile.endless_body, "larger than"),
        (hostile.huge_body, "larger than"),
        (hostile.bomb, "larger than"),
    ],
    ids=["endless", "100MB", "gzip-bomb"],
)
def test_huge_bodies_cost_bounded_memory(respond: Any, says: str) -> None:
    hostile.gzip_bomb()  # built before the server answers: it takes seconds on a busy machine
    with hostile.raw_server(respond) as url:
        code, _out, err, seconds, peak = hostile.run_measured(check_args(url))
    assert code == 2 and says in err and "Traceback" not in err
    assert peak < MEMORY_MIB, peak
    assert seconds < 60


def test_a_gzip_bomb_on_one_route_is_a_finding_there(tmp_path: Path) -> None:
    hostile.gzip_bomb()
    with serving(broken_app("gzip-bomb")) as url:
        code, report = run_json(url, tmp_path)
    assert code == 1
    strict = [f for f in report["findings"] if f["check"] == "answers_are_strict_json"]
    assert any("larger than" in f["found"] for f in strict)


def test_a_dripping_target_is_cut_at_the_request_deadline() -> None:
    """One byte every 0.5 s never trips a per-read timeout; the per-request deadline ends it."""
    with hostile.raw_server(hostile.drip) as url:
        code, _out, err, seconds, _peak = hostile.run_measured([*check_args(url), "--timeout", "2"])
    assert code == 2 and "no answer within 2s" in err
    assert seconds < 20


def test_max_time_ends_a_run_with_a_partial_report(tmp_path: Path) -> None:
    """A target that hangs on malformed ids: --max-time stops the run; the report so far is
    written, the checks not reached are skipped with the reason, exit 2."""
    with serving(broken_app("hang-on-malformed")) as url:
        started = time.monotonic()
        code, report = run_json(url, tmp_path, "--timeout", "1", "--max-time", "4")
    assert code == 2 and time.monotonic() - started < 15
    assert "--max-time" in report["partial"]
    reasons = [r for r in report["skipped"].values() if r.startswith("not run: the run stopped")]
    assert reasons
    assert "--max-time 4" in report["replay"] and "--timeout 1" in report["replay"]


@pytest.mark.parametrize(
    ("breakage", "failed", "pointer"),
    [
        ("deep-nesting", {"chat_labels_body_conforms", "answers_are_strict_json"}, ""),
        ("duplicate-keys", {"answers_are_strict_json"}, "/0/name"),
        # NaN is also not the directory's color 2: the cross-checks say so too
        (
            "nan-color",
            {
                "chat_labels_body_conforms",
                "answers_are_strict_json",
                "labels_in_directory",
                "label_lookups_agree",
            },
            "/1/color",
        ),
        ("bom-body", {"answers_are_strict_json"}, ""),
        ("lying-gzip", {"chat_labels_body_conforms", "answers_are_strict_json"}, ""),
    ],
)
def test_bodies_a_strict_reader_refuses_are_findings_at_their_pointer(
    breakage: str, failed: set[str], pointer: str, tmp_path: Path
) -> None:
    with serving(broken_app(breakage)) as url:
        code, report = run_json(url, tmp_path)
    assert code == 1
    assert {name for name, status in report["checks"].items() if status == "failed"} == failed
    strict = [f for f in report["findings"] if f["check"] == "answers_are_strict_json"]
    assert pointer in {f["pointer"] for f in strict}


def test_record_reports_a_deep_body_in_one_line(tmp_path: Path) -> None:
    with serving(broken_app("deep-nesting")) as url:
        args = ["record", "--base-url", url, "--instance-id", INSTANCE_ID]
        args += ["--access-token", TOKEN, "--chat-id", CHAT, "--out", str(tmp_path / "f.json")]
        code, _out, err, _seconds, peak = hostile.run_measured(args)
    assert code == 2 and "nested more than 64 levels" in err and "Traceback" not in err
    assert peak < MEMORY_MIB


def test_record_of_1000_labels_with_junk_chats_refuses_at_once(tmp_path: Path) -> None:
    """More labels than WhatsApp allows: one line, before reading 1000 chat lists."""
    with serving(broken_app("record-junk")) as url:
        args = ["record", "--base-url", url, "--instance-id", INSTANCE_ID]
        args += ["--access-token", TOKEN, "--out", str(tmp_path / "f.json")]
        code, _out, err, seconds, peak = hostile.run_measured(args)
    assert code == 2 and "1000 labels" in err and err.strip().count("\n") == 0, err
    assert peak < MEMORY_MIB and seconds < 30


# -- secrets -------------------------------------------------------------------------------


def test_a_token_echoed_across_the_cut_of_a_finding_never_shows_in_part(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    with serving(broken_app("token-echoed-late")) as url:
        args = check_args(url, "--junit-xml", str(junit), "--report-json", str(tmp_path / "r"))
        code, out, err, _seconds, _peak = hostile.run_measured(args)
    assert code == 1
    texts = [out, err, junit.read_text(), (tmp_path / "r").read_text()]
    for text in texts:
        for cut in range(6, len(TOKEN) + 1):
            assert TOKEN[:cut] not in text, (cut, text)
    assert "[redacted]" in out


def test_a_one_letter_token_is_named_not_masked_everywhere(tmp_path: Path) -> None:
    with serving(broken_app("none", token="x")) as url:
        code, report = run_json(url, tmp_path, token="x")
    assert code == 0, report["findings"]
    text = json.dumps(report)
    assert "[redacted]t" not in text and "e[redacted]" not in text
    assert any("shorter than 6 characters" in note for note in report["notes"])


def test_an_instance_id_equal_to_the_token_is_no_leak(default_server: Any, tmp_path: Path) -> None:
    """The bundled default fixture: instance id and token are both 123456789."""
    report_path = tmp_path / "r.json"
    args = ["check", "--base-url", default_server.url, "--instance-id", "123456789"]
    args += ["--access-token", "123456789", "--chat-id", "123456789@c.us"]
    assert main([*args, "--report-json", str(report_path), "--max-examples", "3"]) == 0
    report = json.loads(report_path.read_text())
    assert report["findings"] == []
    assert any("equals the instance id" in note for note in report["notes"])


def test_max_response_time_makes_slow_answers_findings(tmp_path: Path) -> None:
    """Off by default (skipped, with the reason); given, a 1.2 s directory fails a 0.8 s
    budget at that request, and only that check fails."""
    with serving(broken_app("slow-directory")) as url:
        code, report = run_json(url, tmp_path)
        assert (code, report["checks"]["answers_within_time_budget"]) == (0, "skipped")
        code, report = run_json(url, tmp_path, "--max-response-time", "0.8")
    assert code == 1
    assert {n for n, s in report["checks"].items() if s == "failed"} == {
        "answers_within_time_budget"
    }
    slow = [f for f in report["findings"] if f["check"] == "answers_within_time_budget"]
    assert slow and all(f["request"]["path"] == "/v2/labels" for f in slow)
