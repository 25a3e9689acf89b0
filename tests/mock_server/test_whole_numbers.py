"""Whole numbers written as floats (``2.0``, ``503.0``) are integers to JSON Schema, so the
fixture, fault-rule and rate-limit schemas accept them; the mock must then use them as the
integers they are. A label colour of ``2.0`` once made every request of the server a 500
(a float used as a palette index), and a fault status of ``503.0`` answered 500, not 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from chatlabels.mock.serving.server import MockServer
from tests.conftest import default_fixture_data

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
CHAT = "5511988887777@c.us"


def _get_chat(server: MockServer) -> requests.Response:
    return requests.get(f"{server.url}/v2/labels/chats/{CHAT}", params=AUTH, timeout=10)


def test_a_colour_written_as_a_float_is_served_as_its_integer(
    start_server: Callable[..., MockServer],
) -> None:
    data: dict[str, Any] = default_fixture_data()
    instance = data["instances"][0]
    chat = instance["chats"][CHAT]
    label_id = (chat["labels"] if isinstance(chat, dict) else chat)[0]
    [index] = [i for i, label in enumerate(instance["labels"]) if label["id"] == label_id]
    instance["labels"][index]["color"] = 2.0
    instance["labels"][index].pop("colorHex", None)
    server = start_server(data)
    answer = _get_chat(server)
    assert answer.status_code == 200
    [label] = [label for label in answer.json() if label["id"] == label_id]
    assert label["color"] == 2 and isinstance(label["color"], int)
    assert label["colorHex"] == "#ffd429"
    dump = requests.get(f"{server.url}/__admin/fixture", timeout=10)
    assert dump.json()["instances"][0]["labels"][index]["color"] == 2
    assert '"color": 2.0' not in dump.text and '"color":2.0' not in dump.text


def test_a_fault_status_written_as_a_float_answers_that_status(
    start_server: Callable[..., MockServer],
) -> None:
    server = start_server(default_fixture_data())
    rule = {"status": 503.0, "retry_after": 5.0, "times": 1}
    added = requests.post(f"{server.url}/__admin/faults", json=rule, timeout=10)
    assert added.status_code == 201
    answer = _get_chat(server)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["status"] == 503
    assert _get_chat(server).status_code == 200


def test_a_rate_limit_written_with_floats_holds(start_server: Callable[..., MockServer]) -> None:
    server = start_server(default_fixture_data())
    limit = {"requests": 2.0, "window_seconds": 60.0}
    put = requests.put(
        f"{server.url}/__admin/instances/123456789/rate-limit", json=limit, timeout=10
    )
    assert put.status_code == 200 and put.json()["rate_limit"]["requests"] == 2
    statuses = [_get_chat(server).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
