"""Hypothesis strategies for the chat-labels contract, reusable in your own tests.

    from hypothesis import given
    from chatlabels.kit import strategies as cs

    @given(cs.valid_chat_ids())
    def test_my_client_accepts(chat_id): ...

- ``valid_chat_ids(form=None)``: chat ids of every form in the contract (section 4), or of one
  form from ``CHAT_ID_FORMS``;
- ``invalid_chat_ids(kind=None)``: strings that are not chat ids, of every kind in
  ``INVALID_KINDS`` (empty, spaces, unicode, very long, wrong suffix, traversal, encoded
  slashes), or of one kind;
- ``tokens()``: access tokens (URL-safe, long enough never to occur by chance in a body);
- ``labels()`` / ``label_lists()``: valid labels and valid lists of labels (unique ids).

The grammar they follow is ``chatlabels.contract.chat_ids``, the same one the mock uses.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from chatlabels.contract.chat_ids import MAX_DIGITS, is_chat_id
from chatlabels.contract.schemas import PALETTE

__all__ = [
    "CHAT_ID_FORMS",
    "INVALID_KINDS",
    "invalid_chat_ids",
    "label_ids",
    "label_lists",
    "labels",
    "tokens",
    "valid_chat_ids",
]


def _digits(min_size: int = 1, max_size: int = 15) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=min_size, max_size=min(max_size, MAX_DIGITS))


#: One strategy per accepted form of the contract's section 4.
CHAT_ID_FORMS: dict[str, st.SearchStrategy[str]] = {
    "person": _digits().map(lambda d: f"{d}@c.us"),
    "person-s.whatsapp.net": _digits().map(lambda d: f"{d}@s.whatsapp.net"),
    "group": _digits().map(lambda d: f"{d}@g.us"),
    "group-legacy": st.tuples(_digits(), _digits()).map(lambda p: f"{p[0]}-{p[1]}@g.us"),
    "lid": _digits().map(lambda d: f"{d}@lid"),
    "newsletter": _digits().map(lambda d: f"{d}@newsletter"),
    "status": st.just("status@broadcast"),
    "bare-number": _digits(),
}


def valid_chat_ids(form: str | None = None) -> st.SearchStrategy[str]:
    """Well-formed chat ids, of every form or of ``form`` (a key of ``CHAT_ID_FORMS``)."""
    if form is not None:
        return CHAT_ID_FORMS[form]
    return st.one_of(*CHAT_ID_FORMS.values())


_SUFFIXES = ("c.us", "g.us", "lid", "newsletter", "s.whatsapp.net")

#: One strategy per kind of malformed chat id the kit sends; each must get a 4xx.
INVALID_KINDS: dict[str, st.SearchStrategy[str]] = {
    "empty": st.just(""),
    "spaces": st.tuples(
        _digits(), st.sampled_from([" ", "  ", "\t"]), st.sampled_from(_SUFFIXES)
    ).map(lambda p: f"{p[0]}{p[1]}@{p[2]}"),
    "unicode": st.tuples(
        st.text(st.characters(min_codepoint=0xA1, exclude_categories=["Cs"]), min_size=1),
        st.sampled_from(_SUFFIXES),
    ).map(lambda p: f"{p[0]}@{p[1]}"),
    "very-long": st.integers(MAX_DIGITS + 1, 4 * MAX_DIGITS).map(lambda n: "9" * n + "@c.us"),
    "wrong-suffix": st.tuples(
        _digits(),
        st.sampled_from(["c.uss", "C.US", "x.us", "g.com", "", "broadcast", "lid.", "@c.us"]),
    ).map(lambda p: f"{p[0]}@{p[1]}"),
    "traversal": st.sampled_from(["..", ".", "../..", "../labels", "..\\..", "123@c.us/.."]),
    "encoded-slashes": st.tuples(
        _digits(), st.sampled_from(["%2F", "%2f", "%5C", "/", "%252F"])
    ).map(lambda p: f"{p[0]}{p[1]}{p[0]}@c.us"),
}


def invalid_chat_ids(kind: str | None = None) -> st.SearchStrategy[str]:
    """Strings that are not chat ids, of every kind or of ``kind`` (a key of INVALID_KINDS)."""
    strategy = INVALID_KINDS[kind] if kind is not None else st.one_of(*INVALID_KINDS.values())
    return strategy.filter(lambda value: not is_chat_id(value))


def tokens() -> st.SearchStrategy[str]:
    """Plausible access tokens: 12 to 40 URL-safe characters."""
    return st.text(string.ascii_letters + string.digits + "-_", min_size=12, max_size=40)


def label_ids() -> st.SearchStrategy[str]:
    return st.integers(1, 10**9).map(str)


def labels(label_id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """One valid label, key order as the provider sends it: id, name, color, colorHex."""
    return st.builds(
        lambda i, name, color: {"id": i, "name": name, "color": color, "colorHex": PALETTE[color]},
        label_id if label_id is not None else label_ids(),
        st.text(max_size=30),
        st.integers(0, len(PALETTE) - 1),
    )


def label_lists(max_size: int = 20) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A valid Get Chat Labels body: labels with unique ids (possibly empty)."""
    return st.lists(labels(), max_size=max_size, unique_by=lambda label: label["id"])
