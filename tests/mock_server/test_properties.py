"""Property: for any fixture state and any request, the mock answers what the fixture says,
in a body that matches the schemas (issue 2)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.contract.chat_ids import canonical_chat_id
from chatlabels.contract.schemas import PALETTE, iter_errors
from chatlabels.kit import strategies as cs
from chatlabels.mock import parse_fixture
from chatlabels.mock.serving.server import MockServer

STATUSES = ["WORKING", "STARTING", "SCAN_QR_CODE", "STOPPED", "FAILED"]


@st.composite
def fixtures(draw) -> dict:
    """1-3 isolated instances, each with labels and chats linking random subsets of them."""
    count = draw(st.integers(1, 3))
    instances = []
    for n in range(count):
        label_ids = draw(st.lists(cs.label_ids(), max_size=8, unique=True))
        labels = [
            {
                "id": i,
                "name": draw(st.text(min_size=1, max_size=20)),
                "color": draw(st.integers(0, 19)),
            }
            for i in label_ids
        ]
        chat_ids = draw(st.lists(cs.valid_chat_ids(), max_size=6, unique_by=canonical_chat_id))
        chats = {
            chat: draw(st.lists(st.sampled_from(label_ids), unique=True)) if label_ids else []
            for chat in chat_ids
        }
        instances.append(
            {
                "id": f"inst{n}",
                # prefixed so a token can never also be part of a generated chat id
                "token": "tok_" + draw(cs.tokens()),
                "session": f"s{n}",
                "status": draw(st.sampled_from(STATUSES)) if n else "WORKING",
                "labels": labels,
                "chats": chats,
            }
        )
    return {"instances": instances}


@st.composite
def requests_for(draw, fixture: dict) -> dict:
    instance = draw(st.sampled_from(fixture["instances"]))
    known_chats = list(instance["chats"])
    chat = draw(
        st.one_of(
            st.sampled_from(known_chats) if known_chats else st.nothing(),
            cs.valid_chat_ids(),
            cs.invalid_chat_ids().filter(lambda c: c not in {"", ".", ".."} and "/" not in c),
        )
    )
    return {
        "instance": draw(st.sampled_from([instance["id"], "unknown-instance", None])),
        "token": draw(st.sampled_from([instance["token"], "wrong-token-123", None])),
        "in_header": draw(st.booleans()),
        "encode_at": draw(st.booleans()),
        "chat": chat,
        "expected_instance": instance,
    }


def expected_answer(request: dict) -> tuple[int, object]:
    """The oracle: status and body (or error code) the contract requires."""
    instance = request["expected_instance"]
    if request["token"] is None:
        return 401, "unauthorized"
    if request["instance"] is None:
        return 400, "invalid_parameter"
    if request["instance"] != instance["id"] or request["token"] != instance["token"]:
        return 401, "unauthorized"
    if instance["status"] != "WORKING":
        return 422, "session_not_ready"
    chat = canonical_chat_id(request["chat"])
    if chat is None:
        return 400, "invalid_parameter"
    by_id = {label["id"]: label for label in instance["labels"]}
    chats = {canonical_chat_id(c): ids for c, ids in instance["chats"].items()}
    return 200, [{**by_id[i], "colorHex": PALETTE[by_id[i]["color"]]} for i in chats.get(chat, [])]


@pytest.fixture(scope="module")
def server():
    server = MockServer(parse_fixture({"instances": [{"id": "x", "token": "x"}]})).start()
    yield server
    server.stop()


@given(data=st.data(), fixture=fixtures())
def test_every_answer_matches_the_fixture_and_the_schemas(server, data, fixture):
    """Whatever the state and the request, the answer is the oracle's, in schema-valid JSON."""
    server.store.load(parse_fixture(fixture))
    request = data.draw(requests_for(fixture))
    note(f"request: {request}")
    params = {}
    headers = {}
    if request["instance"] is not None:
        params["instance_id"] = request["instance"]
    if request["token"] is not None:
        (headers if request["in_header"] else params)[
            "access-token" if request["in_header"] else "access_token"
        ] = request["token"]
    chat = quote(request["chat"], safe="@" if not request["encode_at"] else "")
    response = requests.get(
        f"{server.url}/v2/labels/chats/{chat}", params=params, headers=headers, timeout=5
    )
    status, expected = expected_answer(request)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    if status == 200:
        assert list(iter_errors("chat-labels", body)) == []
        assert body == expected
    else:
        assert list(iter_errors("error", body)) == []
        assert body["error"] == expected
    if request["token"] is not None:
        assert request["token"] not in response.text
