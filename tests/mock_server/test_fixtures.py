"""Bad fixture files stop `chatlabels serve` before it listens, naming file, pointer, reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatlabels.mock import FixtureError, load_fixture, parse_fixture
from tests.conftest import FIXTURES_DIR


def instance(**overrides):
    base = {
        "id": "1",
        "token": "t",
        "labels": [{"id": "1", "name": "New Customer", "color": 0}],
        "chats": {"123@c.us": ["1"]},
    }
    return {**base, **overrides}


BAD_FIXTURES = {
    "not_json": ("{not json", "/", "not JSON"),
    "fails_schema": (
        {"instances": [{"token": "t"}]},
        "/instances/0",
        "'id' is a required property",
    ),
    "no_instances": ({"instances": []}, "/instances", "0 items, at least 1 required"),
    "unknown_key": ({"instances": [instance(colour=1)]}, "/instances/0", "colour"),
    "duplicate_label_id": (
        {
            "instances": [
                instance(
                    labels=[
                        {"id": "1", "name": "a", "color": 0},
                        {"id": "1", "name": "b", "color": 1},
                    ]
                )
            ]
        },
        "/instances/0/labels/1/id",
        "duplicate label id '1'",
    ),
    "color_out_of_range": (
        {"instances": [instance(labels=[{"id": "1", "name": "a", "color": 20}])]},
        "/instances/0/labels/0/color",
        "20 is greater than the maximum of 19",
    ),
    "color_hex_not_in_palette": (
        {"instances": [instance(labels=[{"id": "1", "name": "a", "colorHex": "#123456"}])]},
        "/instances/0/labels/0/colorHex",
        "'#123456' is not one of",
    ),
    "color_and_hex_disagree": (
        {
            "instances": [
                instance(labels=[{"id": "1", "name": "a", "color": 1, "colorHex": "#ff9485"}])
            ]
        },
        "/instances/0/labels/0/colorHex",
        "palette index 0 but color is 1",
    ),
    "chat_names_unknown_label": (
        {"instances": [instance(chats={"123@c.us": ["1", "7"]})]},
        "/instances/0/chats/123@c.us/1",
        "label '7' does not exist",
    ),
    "bad_chat_id": (
        {"instances": [instance(chats={"hello": []})]},
        "/instances/0/chats/hello",
        "is not a chat id",
    ),
    "same_chat_twice": (
        {"instances": [instance(chats={"123@c.us": [], "123@s.whatsapp.net": []})]},
        "/instances/0/chats/123@s.whatsapp.net",
        "same chat",
    ),
    "duplicate_instance_id": (
        {"instances": [instance(session="a"), instance(session="b")]},
        "/instances/1/id",
        "duplicate instance id '1'",
    ),
    "duplicate_session": (
        {"instances": [instance(), instance(id="2")]},
        "/instances/1/session",
        "duplicate session 'default'",
    ),
}


def write(tmp_path: Path, content) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD_FIXTURES))
def test_bad_fixture_is_reported_with_pointer_and_reason(tmp_path, case):
    content, pointer, reason = BAD_FIXTURES[case]
    path = write(tmp_path, content)
    with pytest.raises(FixtureError) as raised:
        load_fixture(path)
    report = str(raised.value)
    assert f"{path}: {pointer}: " in report
    assert reason in report


@pytest.mark.parametrize("case", ["not_json", "duplicate_label_id", "chat_names_unknown_label"])
def test_serve_refuses_a_bad_fixture_with_exit_2_and_no_traceback(tmp_path, case):
    content, pointer, reason = BAD_FIXTURES[case]
    path = write(tmp_path, content)
    done = subprocess.run(
        [sys.executable, "-m", "chatlabels", "serve", "--fixtures", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "serving on" not in done.stdout
    assert str(path) in done.stderr and pointer in done.stderr and reason in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_is_reported_not_crashed_on(tmp_path):
    with pytest.raises(FixtureError, match="cannot read file"):
        load_fixture(tmp_path / "absent.json")


def test_every_problem_is_reported_at_once():
    data = {
        "instances": [instance(labels=[{"id": "1", "name": "a", "color": 0}] * 2, chats={"x": []})]
    }
    with pytest.raises(FixtureError) as raised:
        parse_fixture(data)
    pointers = {problem.pointer for problem in raised.value.problems}
    assert pointers == {"/instances/0/labels/1/id", "/instances/0/chats/x"}


def test_normalisation_fills_defaults_and_canonical_chat_ids():
    fixture = parse_fixture(
        {
            "instances": [
                {
                    "id": "1",
                    "token": "t",
                    "labels": [{"id": "3", "name": "Hot", "colorHex": "#ffd429"}],
                    "chats": {"55@s.whatsapp.net": ["3"], "66": []},
                }
            ]
        }
    )
    only = fixture["instances"][0]
    assert only["session"] == "default" and only["status"] == "WORKING"
    assert only["labels"] == [{"id": "3", "name": "Hot", "color": 2}]
    assert only["chats"] == {"55@c.us": ["3"], "66@c.us": []}


@pytest.mark.parametrize("path", sorted(FIXTURES_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_bundled_fixture_loads(path):
    assert load_fixture(path)["instances"]


def test_nan_is_not_json_even_though_python_reads_it(tmp_path):
    path = write(
        tmp_path,
        '{"instances": [{"id": "1", "token": "t",\n'
        ' "rate_limit": {"requests": 1, "window_seconds": NaN}}]}',
    )
    with pytest.raises(FixtureError, match="NaN is not a JSON number at line 2 column"):
        load_fixture(path)
