"""The kit's verdict on bodies is right: valid label lists pass, and every single-field
corruption of a valid list fails exactly the check that owns that field, at its pointer."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, note
from hypothesis import strategies as st

from chatlabels.contract.schemas import PALETTE
from chatlabels.kit import strategies as cs
from chatlabels.kit.judge import label_list_findings

CONFORMS = "chat_labels_body_conforms"
PALETTE_CHECK = "color_hex_matches_color"
UNIQUE = "label_ids_unique_in_chat"

#: field -> strategies of wrong values; each breaks the label's shape (CONFORMS).
WRONG_SHAPE: dict[str, st.SearchStrategy[Any]] = {
    "id": st.one_of(
        st.integers(),
        st.just(""),
        st.text(min_size=1).filter(lambda s: not (s.isascii() and s.isdigit())),
        st.text("0123456789", min_size=33, max_size=40),
    ),
    "name": st.one_of(st.integers(), st.none(), st.lists(st.text(), max_size=2)),
    "color": st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=len(PALETTE)),
        st.booleans(),
        st.floats(allow_nan=False).filter(lambda x: not x.is_integer()),
        st.integers(0, 19).map(str),
    ),
    "colorHex": st.one_of(st.integers(), st.none(), st.sampled_from(["red", "ff9485", "#ff948"])),
}


def errors(body: Any) -> set[tuple[str, str]]:
    return {(f.check, f.pointer) for f in label_list_findings(body) if f.severity == "error"}


@given(cs.label_lists())
def test_valid_label_lists_pass(labels: list[dict[str, Any]]) -> None:
    """Everything the label strategy draws is judged valid (no false positives)."""
    assert label_list_findings(labels) == []


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[list[dict[str, Any]], str, str]:
    """A valid list with one field of one label corrupted, and the (check, pointer) it must
    fail."""
    labels = draw(cs.label_lists().filter(bool))
    i = draw(st.integers(0, len(labels) - 1))
    label = labels[i]
    kind = draw(
        st.sampled_from(["shape", "missing", "extra", "other-color", "other-hex", "upper", "dup"])
    )
    at = f"/{i}"
    if kind == "shape":
        field = draw(st.sampled_from(sorted(WRONG_SHAPE)))
        label[field] = draw(WRONG_SHAPE[field])
        expected = (CONFORMS, f"{at}/{field}")
    elif kind == "missing":
        field = draw(st.sampled_from(["id", "name", "color", "colorHex"]))
        del label[field]
        expected = (CONFORMS, f"{at}/{field}")
    elif kind == "extra":
        field = draw(st.sampled_from(["description", "chatId", "colour", "hex"]))
        label[field] = draw(st.text(max_size=5))
        expected = (CONFORMS, f"{at}/{field}")
    elif kind == "other-color":
        label["color"] = draw(st.integers(0, 19).filter(lambda c: c != label["color"]))
        expected = (PALETTE_CHECK, f"{at}/colorHex")
    elif kind == "other-hex":
        label["colorHex"] = draw(st.sampled_from(PALETTE).filter(lambda h: h != label["colorHex"]))
        expected = (PALETTE_CHECK, f"{at}/colorHex")
    elif kind == "upper":
        label["colorHex"] = label["colorHex"].upper()
        expected = (CONFORMS, f"{at}/colorHex")
    else:
        assume(len(labels) > 1)
        j = draw(st.integers(0, len(labels) - 1).filter(lambda j: j != i))
        label["id"] = labels[j]["id"]
        expected = (UNIQUE, f"/{max(i, j)}/id")
    return labels, *expected


@given(corrupted())
def test_every_single_field_corruption_fails_the_right_check(
    case: tuple[list[dict[str, Any]], str, str],
) -> None:
    """One corrupted field gives error findings for one check, all at that field's pointer."""
    labels, check, pointer = case
    note(f"corrupted body: {labels!r}")
    assert errors(labels) == {(check, pointer)}


def test_php_object_root_is_an_error_in_strict_and_a_named_warning_in_lenient() -> None:
    label = {"id": "1", "name": "New Customer", "color": 0, "colorHex": "#ff9485"}
    strict = label_list_findings({"0": label})
    lenient = label_list_findings({"0": label}, profile="lenient")
    assert [(f.check, f.pointer, f.severity, f.drift) for f in strict] == [
        (CONFORMS, "", "error", "php-object-root")
    ]
    assert [(f.severity, f.drift) for f in lenient] == [("warning", "php-object-root")]


def test_labels_inside_an_object_root_are_still_judged_at_their_key() -> None:
    body = {"0": {"id": "1", "name": "x", "color": 0, "colorHex": "#64c4ff"}}
    found = label_list_findings(body, profile="lenient")
    assert (PALETTE_CHECK, "/0/colorHex", "error") in {
        (f.check, f.pointer, f.severity) for f in found
    }


def test_a_body_that_is_not_a_list_of_labels_fails_at_the_root() -> None:
    assert errors({"labels": []}) == {(CONFORMS, "")}
    assert errors("[]") == {(CONFORMS, "")}
    assert errors([]) == set()


def test_an_integral_float_color_is_compared_with_the_palette_as_its_int() -> None:
    """JSON Schema accepts 1.0 as an integer, so a wrong colorHex beside it is still caught."""
    wrong = [{"id": "1", "name": "a", "color": 1.0, "colorHex": PALETTE[0]}]
    right = [{"id": "1", "name": "a", "color": 1.0, "colorHex": PALETTE[1]}]
    [finding] = label_list_findings(wrong)
    assert (finding.check, finding.pointer) == (PALETTE_CHECK, "/0/colorHex")
    assert finding.expected == f"{PALETTE[1]} (PALETTE[1])"
    assert label_list_findings(right) == []
