"""HeaderReader reads exactly werkzeug's headers, in werkzeug's order, cached or not, and
header_count counts them as werkzeug does."""

from __future__ import annotations

from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders

from chatlabels.mock.http.wsgi import MAX_SHAPES, HeaderReader, header_count

_KEYS = st.one_of(
    st.sampled_from(["CONTENT_TYPE", "CONTENT_LENGTH", "HTTPS", "HTTP", "HTTP_", "wsgi.input"]),
    st.sampled_from(["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_NAME"]),
    st.from_regex(r"HTTP_[A-Z0-9_]{1,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z_.]{1,12}", fullmatch=True),
)
_ENVIRONS = st.dictionaries(_KEYS, st.text(max_size=20), max_size=30)


def werkzeug_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    return list(EnvironHeaders(environ).items())


def read_headers(reader: HeaderReader, environ: dict[str, Any]) -> list[tuple[str, str]]:
    keys, values, key_chars = reader(environ)
    assert key_chars == sum(map(len, keys))
    return werkzeug_headers(dict(zip(keys, values, strict=True)))


@given(st.lists(_ENVIRONS, min_size=1, max_size=8))
def test_the_headers_werkzeug_reads_first_time_and_from_the_kept_shape(
    environs: list[dict[str, Any]],
) -> None:
    """Property: for any environs, in any order, repeated, HeaderReader gives exactly the
    headers werkzeug reads, whether it learns the key order then or reads a kept one."""
    reader = HeaderReader()
    for environ in environs + environs:  # the second round reads through kept shapes
        note(f"environ keys: {list(environ)}")
        assert read_headers(reader, environ) == werkzeug_headers(environ)


def test_one_header_and_none() -> None:
    reader = HeaderReader()
    for _ in range(2):
        assert reader({"PATH_INFO": "/", "HTTP_HOST": "h"}) == (("HTTP_HOST",), ("h",), 9)
        assert reader({"PATH_INFO": "/"}) == ((), (), 0)


def test_same_keys_new_values_are_read_anew() -> None:
    reader = HeaderReader()
    reader({"HTTP_HOST": "a", "HTTP_X_API_KEY": "1"})
    assert reader({"HTTP_HOST": "b", "HTTP_X_API_KEY": "2"})[1] == ("b", "2")


def test_a_client_inventing_header_names_keeps_at_most_max_shapes() -> None:
    """Hostile: a new header name on every request never grows the kept shapes past
    MAX_SHAPES, and every answer stays right."""
    reader = HeaderReader()
    for n in range(MAX_SHAPES * 3):
        environ = {"PATH_INFO": "/", f"HTTP_X_{n}": str(n), "HTTP_HOST": "h"}
        assert read_headers(reader, environ) == werkzeug_headers(environ)
        assert len(reader) <= MAX_SHAPES


def test_the_same_names_in_another_order_keep_that_order() -> None:
    reader = HeaderReader()
    reader({"HTTP_A": "1", "HTTP_B": "2"})
    assert reader({"HTTP_B": "2", "HTTP_A": "1"})[:2] == (("HTTP_B", "HTTP_A"), ("2", "1"))


@given(_ENVIRONS)
def test_header_count_is_werkzeugs(environ: dict[str, Any]) -> None:
    """Property: the gate's count of header fields is the number werkzeug reads."""
    assert header_count(environ) == len(werkzeug_headers(environ))
