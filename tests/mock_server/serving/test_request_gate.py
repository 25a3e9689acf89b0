"""``RequestGate.passes_at_once``: its shortcut decides as the gate's full checks do."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chatlabels.mock.app import error_dialect
from chatlabels.mock.limits import ServerLimits
from chatlabels.mock.serving.request_gate import RequestGate, _has_body


@st.composite
def environs(draw: st.DrawFn) -> dict[str, Any]:
    params = draw(st.lists(st.sampled_from(["a=1", "b=", "", "c=%26"]), max_size=6))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": draw(st.sampled_from(["GET", "POST"])),
        "PATH_INFO": draw(st.sampled_from(["/v2/labels/chats/1@c.us", "/__admin/fixture"])),
        "QUERY_STRING": "&".join(params),
    }
    length = draw(st.sampled_from([None, "", "0", "5", "99999999", "x"]))
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if draw(st.booleans()):
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    for number in range(draw(st.integers(0, 6))):
        environ[f"HTTP_X_{number}"] = "v" * draw(st.integers(0, 3000))
    return environ


@given(
    environ=environs(),
    params=st.integers(1, 6),
    headers=st.integers(1, 10),
    head_bytes=st.sampled_from([100, 4000, 8192, 16384]),
    body_bytes=st.sampled_from([0, 10, 65536]),
)
def test_passes_at_once_is_no_body_and_no_refusal(
    environ: dict[str, Any], params: int, headers: int, head_bytes: int, body_bytes: int
) -> None:
    """Property: for any request and any bounds, the shortcut answers what the checks it
    skips would: no body to read, and no bound refusing the request."""
    limits = ServerLimits(
        max_query_params=params,
        max_headers=headers,
        max_header_bytes=head_bytes,
        max_body_bytes=body_bytes,
    )
    gate = RequestGate(lambda environ, start_response: [b""], limits, error_dialect)
    expected = not _has_body(environ) and gate._refusal(environ) is None
    assert gate.passes_at_once(environ) is expected
