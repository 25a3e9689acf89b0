"""ValueRedactor: every spelling of a known secret goes, nothing else does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given
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


secrets = st.text(min_size=MIN_EMBEDDED_SECRET_CHARS).filter(lambda s: not set(s) & set("[]"))


@given(st.text(), secrets, st.text())
def test_a_long_secret_goes_whatever_surrounds_it(before: str, secret: str, after: str) -> None:
    """Property: a secret of MIN_EMBEDDED_SECRET_CHARS or more is gone from any text that
    held it, glued to anything."""
    assert secret not in ValueRedactor([secret]).redact(before + secret + after)


@given(st.text(st.characters(exclude_characters="%+\\ ")), st.lists(secrets, max_size=3))
def test_text_that_spells_no_secret_is_left_alone(text: str, known: list[str]) -> None:
    """Property: without an escape in it, a text that does not hold a secret (in any case)
    comes back unchanged."""
    if not any(re.search(re.escape(secret), text, re.IGNORECASE) for secret in known):
        assert ValueRedactor(known).redact(text) == text


@given(secrets.filter(lambda s: s.upper() != s.lower()), st.sampled_from([str.upper, str.title]))
def test_a_long_secret_goes_in_any_case(secret: str, recase: Callable[[str], str]) -> None:
    """Property: a server upper-cases a request's method and a journal title-cases a header
    name; a long secret spelled so is still redacted."""
    assume(recase(secret) != secret and len(recase(secret)) == len(secret))
    assert ValueRedactor([secret]).redact(f"<{recase(secret)}>") == "<[redacted]>"


def test_a_short_secret_keeps_its_case() -> None:
    """A short secret stands alone only in its own case: token ``ab`` leaves ``AB`` alone."""
    assert ValueRedactor(["ab"]).redact("ab AB") == "[redacted] AB"
