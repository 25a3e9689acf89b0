"""What Python's json reads but JSON and UTF-8 forbid never gets into the mock's state."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from chatlabels.contract import strict_json
from chatlabels.contract.fixtures import FixtureError, load_fixture

DOCS = {"instance_id": "123456789", "access_token": "123456789"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_every_valid_document_reads_back_unchanged(document):
    """Property: strict parsing accepts everything json.dumps writes from valid Unicode."""
    assert strict_json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("[1, -Infinity]", "-Infinity is not a JSON number"),
        ('{"a": ["ok", "\\ud800"]}', "/a/1 holds a lone UTF-16 surrogate"),
        ('{"\\udc00": 1}', "at / holds a lone UTF-16 surrogate"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_not_json_is_refused_with_where(text, reason):
    with pytest.raises(ValueError, match=reason):
        strict_json.loads(text)


def test_a_fixture_file_with_a_lone_surrogate_is_refused(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(
        '{"instances": [{"id": "1", "token": "t", "labels": '
        '[{"id": "1", "name": "\\ud800", "color": 0}]}]}'
    )
    with pytest.raises(FixtureError, match="/instances/0/labels/0/name holds a lone"):
        load_fixture(path)


@pytest.mark.parametrize("dialect", ["provider", "waha"])
def test_a_lone_surrogate_in_a_label_name_is_a_400_and_leaves_the_state_intact(
    start_server, dialect
):
    server = start_server()
    body = '{"name": "\\ud800", "color": 1}'
    if dialect == "provider":
        url, params, headers = f"{server.url}/v2/labels", DOCS, {}
    else:
        url, params, headers = f"{server.url}/api/default/labels", {}, {"X-Api-Key": "123456789"}
    headers["Content-Type"] = "application/json"
    answer = requests.post(url, params=params, headers=headers, data=body, timeout=5)
    assert answer.status_code == 400
    listing = requests.get(f"{server.url}/v2/labels", params=DOCS, timeout=5)
    assert listing.status_code == 200 and len(listing.json()) == 9
