"""WAHA's label rules over real sockets, and what the provider dialect answers to the same.

Sources: WAHA 2025.10.4 ``src/api/labels.controller.ts`` (create l.43-66, update l.68-97) and
``src/structures/labels.dto.ts`` (LabelBody l.29-81); class-validator 0.14.0's messages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import given, note
from hypothesis import strategies as st

from chatlabels.contract.schemas import iter_errors
from chatlabels.mock.serving.server import MockServer
from tests.conftest import FIXTURES_DIR

KEY = {"X-Api-Key": "123456789"}
PROVIDER = {"instance_id": "123456789", "access_token": "123456789"}
NAME = "name must be a string"
HEX = "colorHex must be a hexadecimal color"
NUMBER = "color must be a number conforming to the specified constraints"


def waha(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", KEY)
    return requests.request(method, f"{server.url}/api/default{path}", timeout=5, **kwargs)


def provider(server: MockServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    url = f"{server.url}/v2{path}"
    return requests.request(method, url, params=PROVIDER, timeout=5, **kwargs)


def nest(response: requests.Response, status: int, message: Any) -> None:
    """The answer is exactly NestJS's HttpException body, and waha-error.schema.json holds."""
    phrase = {400: "Bad Request", 404: "Not Found", 422: "Unprocessable Entity"}[status]
    assert (response.status_code, response.json()) == (
        status,
        {"message": message, "error": phrase, "statusCode": status},
    ), response.text
    assert not list(iter_errors("waha-error", response.json()))


def names(server: MockServer) -> list[str]:
    return [label["name"] for label in waha(server, "GET", "/labels").json()]


@pytest.fixture
def server(start_server: Any) -> MockServer:
    return start_server()


def full_account(start_server: Any) -> MockServer:
    return start_server(json.loads((FIXTURES_DIR / "full-account.json").read_text("utf-8")))


# -- unique names -------------------------------------------------------------------------
def test_create_with_a_taken_name_is_422_naming_the_label(server) -> None:
    nest(
        waha(server, "POST", "/labels", json={"name": "VIP", "color": 1}),
        422,
        "Label with 'VIP' already exists, id: 3",
    )
    # Exact match only, as lodash.find compares: another case or a space is another name.
    for name in ["vip", "VIP "]:
        assert waha(server, "POST", "/labels", json={"name": name, "color": 1}).status_code == 201
    assert names(server).count("VIP") == 1


def test_rename_to_another_labels_name_is_422_and_changes_nothing(server) -> None:
    response = waha(server, "PUT", "/labels/4", json={"name": "VIP", "colorHex": "#ff9485"})
    nest(response, 422, "Label with 'VIP' already exists, id: 3")
    assert "Pending Payment" in names(server)


def test_update_keeping_its_own_name_is_refused_as_waha_does(server) -> None:
    """WAHA's bug, copied on purpose: its name check counts the label being updated."""
    response = waha(server, "PUT", "/labels/3", json={"name": "VIP", "color": 5})
    nest(response, 422, "Label with 'VIP' already exists, id: 3")
    assert waha(server, "GET", "/labels").json()[2]["color"] == 2  # unchanged
    renamed = waha(server, "PUT", "/labels/3", json={"name": "VIP+", "color": 5})
    assert renamed.json() == {"id": "3", "name": "VIP+", "color": 5, "colorHex": "#55ccb3"}


# -- the 20-label maximum -----------------------------------------------------------------
def test_a_21st_label_is_422_before_the_name_is_looked_at(start_server) -> None:
    server = full_account(start_server)
    for name in ["Fresh", "Label 1"]:
        nest(
            waha(server, "POST", "/labels", json={"name": name, "color": 1}),
            422,
            "Maximum 20 labels allowed",
        )
    # The colour rules come first (toDTO, l.51, before getLabels, l.53).
    nest(
        waha(server, "POST", "/labels", json={"name": "Fresh"}),
        422,
        "'color' or 'colorHex' is required",
    )


# -- the ValidationPipe -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"color": 1}, [NAME]),
        ({"name": 123, "color": 1}, [NAME]),
        ({"name": None, "color": 1}, [NAME]),
        ({"name": "Lead", "color": "13"}, [NUMBER]),
        ({"name": "Lead", "color": True}, [NUMBER]),
        ({"name": "Lead", "colorHex": "red"}, [HEX]),
        ({"name": "Lead", "colorHex": ""}, [HEX]),
        ({"name": "Lead", "colorHex": 16}, [HEX]),
        ({"name": 1, "colorHex": 5, "color": "x"}, [NAME, HEX, NUMBER]),  # declaration order
        ([{"name": "Lead", "color": 1}], [NAME]),  # an array has no name
        ({}, [NAME]),
    ],
)
@pytest.mark.parametrize("method, path", [("POST", "/labels"), ("PUT", "/labels/3")])
def test_a_body_of_the_wrong_type_is_400_with_every_broken_rule(
    server, method, path, body, messages
):
    nest(waha(server, method, path, json=body), 400, messages)


def test_a_body_not_sent_as_json_is_empty_to_the_pipe(server) -> None:
    text = waha(
        server,
        "POST",
        "/labels",
        data='{"name": "Lead", "color": 1}',
        headers={**KEY, "Content-Type": "text/plain"},
    )
    nest(text, 400, [NAME])
    empty = waha(
        server, "POST", "/labels", data="", headers={**KEY, "Content-Type": "application/json"}
    )
    nest(empty, 400, [NAME])


def test_a_top_level_value_that_is_not_an_object_is_bodyparsers_400(server) -> None:
    response = waha(
        server, "POST", "/labels", data="123", headers={**KEY, "Content-Type": "application/json"}
    )
    nest(response, 400, "Unexpected token '1', \"123\" is not valid JSON")
    broken = waha(
        server, "POST", "/labels", data="{bad", headers={**KEY, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and isinstance(broken.json()["message"], str)


@pytest.mark.parametrize("color_hex", ["ff9485", "#FF9485", "#fff"])
def test_a_hex_colour_outside_the_palette_passes_the_pipe_and_is_422(server, color_hex) -> None:
    response = waha(server, "POST", "/labels", json={"name": "Lead", "colorHex": color_hex})
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid 'colorHex'. Possible values: #ff9485")


def test_unknown_properties_are_stripped_without_error(server) -> None:
    body = {"name": "Lead", "color": 13, "id": "99", "foo": {"bar": 1}}
    response = waha(server, "POST", "/labels", json=body)
    assert (response.status_code, response.json()) == (
        201,
        {"id": "10", "name": "Lead", "color": 13, "colorHex": "#f74848"},
    )


@given(
    body=st.dictionaries(
        st.sampled_from(["name", "color", "colorHex", "x"]),
        st.none() | st.booleans() | st.integers(-3, 30) | st.text(max_size=8),
    )
)
def test_any_body_is_answered_400_422_or_201_never_5xx(default_server, body) -> None:
    """Property: whatever the types, the pipe or the rules answer, in WAHA's shape."""
    note(repr(body))
    response = waha(default_server, "POST", "/labels", json=body)
    assert response.status_code in {201, 400, 422}, response.text
    if response.status_code == 201:
        waha(default_server, "DELETE", f"/labels/{response.json()['id']}")
    else:
        assert not list(iter_errors("waha-error", response.json()))
    name_ok = isinstance(body.get("name"), str)
    assert (response.status_code == 400) >= (not name_ok)


# -- existence before the body on update --------------------------------------------------
def test_update_of_an_unknown_label_checks_the_body_type_first_then_existence(server) -> None:
    nest(waha(server, "PUT", "/labels/99", json={"name": 5}), 400, [NAME])
    nest(waha(server, "PUT", "/labels/99", json={"name": "Lead"}), 404, "Label not found")
    nest(
        waha(server, "PUT", "/labels/abc", json={"name": "Lead", "color": 1}),
        404,
        "Label not found",
    )
    nest(waha(server, "DELETE", "/labels/abc"), 404, "Label not found")


def test_a_bad_body_is_400_even_for_a_session_not_working(server) -> None:
    response = requests.post(
        f"{server.url}/api/sales/labels",
        json={"color": 1},
        headers={"X-Api-Key": "987654321"},
        timeout=5,
    )
    nest(response, 400, [NAME])


# -- the provider dialect, same cases, its own envelope -----------------------------------
def test_provider_refuses_taken_names_but_not_a_labels_own(server) -> None:
    taken = provider(server, "POST", "/labels", json={"name": "VIP", "color": 1})
    renamed = provider(server, "PUT", "/labels/4", json={"name": "VIP", "color": 1})
    for response in (taken, renamed):
        assert response.status_code == 422
        assert response.json()["error"] == "label_exists"
        assert response.json()["message"].startswith("Label with 'VIP' already exists, id: 3")
        assert not list(iter_errors("error", response.json()))
    same = provider(server, "PUT", "/labels/3", json={"name": "VIP", "color": 5})
    assert same.status_code == 200 and same.json()["color"] == 5


def test_provider_keeps_its_quota_answer_and_checks_existence_first(start_server) -> None:
    server = full_account(start_server)
    full = provider(server, "POST", "/labels", json={"name": "Fresh", "color": 1})
    assert (full.status_code, full.json()["error"]) == (403, "quota_reached")
    unknown = provider(server, "PUT", "/labels/99", json={"name": 5})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "label_not_found")
    wrong_type = provider(server, "PUT", "/labels/1", json={"name": 5, "color": 1})
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (422, "invalid_label")
