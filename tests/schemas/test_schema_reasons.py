"""A schema problem says what is wrong without quoting the offending value whole.

jsonschema's own messages open with the value (``[{...}, ... 21 labels] is too long``), so
a fixture one label over WhatsApp's 20 read as a printout of its labels, cut before the
reason. ``schema_reason`` words them for people; these tests go through the same entry points
as ``chatlabels serve``, ``validate`` and the control API.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatlabels.contract.fault_rules import rules_problems
from chatlabels.contract.fixtures import FixtureError, parse_fixture
from tests.conftest import default_fixture_data


def _problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(FixtureError) as caught:
        parse_fixture(data)
    return [(p.pointer, p.reason) for p in caught.value.problems]


def _labels(count: int) -> list[dict[str, Any]]:
    return [
        {"id": str(i), "name": f"Label number {i}", "color": 0, "colorHex": "#ff9485"}
        for i in range(1, count + 1)
    ]


def test_one_label_too_many_says_how_many_and_the_limit() -> None:
    data = default_fixture_data()
    data["instances"][0]["labels"] = _labels(21)
    assert _problems(data) == [("/instances/0/labels", "21 items, at most 20 allowed")]


@given(st.text(alphabet="0123456789", min_size=33, max_size=400))
def test_a_long_value_is_measured_not_quoted(label_id: str) -> None:
    data = default_fixture_data()
    data["instances"][0]["labels"] = [
        {"id": label_id, "name": "x", "color": 0, "colorHex": "#ff9485"}
    ]
    data["instances"][0]["chats"] = {}
    reasons = dict(_problems(copy.deepcopy(data)))
    assert reasons["/instances/0/labels/0/id"] == f"{len(label_id)} characters, at most 32 allowed"
    assert label_id not in json.dumps(reasons)


def test_a_fault_rule_without_an_effect_names_the_effects() -> None:
    problems = rules_problems([{"bogus": 1}])
    assert (
        "/0",
        "needs one of: status, latency_ms, drop_connection, malformed_json, object_root",
    ) in problems
    assert all("{'bogus': 1}" not in reason for _, reason in problems)


def test_no_form_matched_says_the_kind_of_value_not_the_value() -> None:
    problems = rules_problems([{"latency_ms": "slow" * 100}])
    assert problems == [("/0/latency_ms", "a string that matches none of the forms allowed here")]
