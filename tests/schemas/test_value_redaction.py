"""ValueRedactor: every spelling of a known secret goes, nothing else does."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatlabels.contract.value_redaction import MIN_EMBEDDED_SECRET_CHARS, ValueRedactor

SECRET = 'tok/en "é+ 1'


@pytest.mark.parametrize(
    "spelling",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote(SECRET, safe="").lower(),
        quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        "tok%2Fen%20%22%c3%a9%2B 1",  # a mix of encoded and plain characters
    ],
)
def test_every_spelling_of_a_secret_is_redacted(spelling: str) -> None:
    redacted = ValueRedactor([SECRET]).redact(f"xx{spelling}yy")
    assert redacted == "xx[redacted]yy"


def test_a_short_secret_goes_only_where_it_stands_alone() -> None:
    redactor = ValueRedactor(["t1"])
    assert len("t1") < MIN_EMBEDDED_SECRET_CHARS
    assert redactor.redact("note=t1&x=at1b&t1") == "note=[redacted]&x=at1b&[redacted]"


def test_documents_keep_their_shape() -> None:
    redactor = ValueRedactor(["1"])
    document = {"count": 1, "1": ["1", 1, True, None], "id": "a-1"}
    assert redactor.redact_json(document) == {
        "count": 1,
        "[redacted]": ["[redacted]", 1, True, None],
        "id": "a-[redacted]",
    }


@given(st.text(), st.lists(st.text(min_size=MIN_EMBEDDED_SECRET_CHARS), max_size=3))
def test_text_without_a_secret_is_left_alone(text: str, secrets: list[str]) -> None:
    """Property: a text that holds no secret in any spelling comes back unchanged."""
    redactor = ValueRedactor(secrets)
    if "%" in text or "\\" in text or "+" in text or " " in text:
        return  # could spell a secret: covered above
    if any(s in text for s in secrets):
        return
    assert redactor.redact(text) == text
