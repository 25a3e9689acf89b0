"""Fault rules and rate limits over real sockets: every effect, every match, replay, expiry."""

from __future__ import annotations

import json
import math
import time

import pytest
import requests

from chatlabels.mock import FixtureError, parse_fixture
from chatlabels.mock.control.rate_limit import RateLimits
from tests.conftest import default_fixture_data

AUTH = {"instance_id": "123456789", "access_token": "123456789"}
SALES_AUTH = {"instance_id": "987654321", "access_token": "987654321"}
CHAT = "5511988887777@c.us"  # labels 3, 4, 6 in the default fixture


@pytest.fixture
def server(default_server):
    """The module's server, reset (state, rules, limits, journal) before each test."""
    requests.post(f"{default_server.url}/__admin/reset", timeout=5).raise_for_status()
    return default_server


def add_faults(server, rules) -> list[dict]:
    response = requests.post(f"{server.url}/__admin/faults", json=rules, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["faults"]


def get_chat(server, chat: str = CHAT, **kwargs) -> requests.Response:
    return requests.get(f"{server.url}/v2/labels/chats/{chat}", params=AUTH, timeout=5, **kwargs)


# -- effects --------------------------------------------------------------------------------
def test_a_status_fault_answers_the_providers_error_body(server) -> None:
    add_faults(server, {"status": 403})
    response = get_chat(server)
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "message": "Forbidden - Quota or Limit Reached",
        "error": "quota_reached",
    }


def test_a_status_fault_takes_a_custom_error_message_and_retry_after(server) -> None:
    add_faults(server, {"status": 503, "message": "Maintenance", "retry_after": 7})
    response = get_chat(server)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {
        "status": 503,
        "message": "Maintenance",
        "error": "service_unavailable",
    }
    add_faults(server, {"status": 500, "error": "upstream_down"})
    requests.delete(f"{server.url}/__admin/faults/fault-1", timeout=5)
    assert get_chat(server).json()["error"] == "upstream_down"


def test_fixed_latency_delays_the_answer(server) -> None:
    add_faults(server, {"latency_ms": 300})
    started = time.perf_counter()
    response = get_chat(server)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and len(response.json()) == 3
    assert 0.28 <= elapsed < 3


def test_random_latency_stays_in_its_range(server) -> None:
    add_faults(server, {"latency_ms": {"min": 100, "max": 250}, "seed": 3})
    for _ in range(3):
        started = time.perf_counter()
        get_chat(server).raise_for_status()
        assert 0.09 <= time.perf_counter() - started < 2


def test_a_dropped_connection_gives_no_http_answer_at_all(server) -> None:
    add_faults(server, {"drop_connection": True, "times": 1})
    with pytest.raises(requests.ConnectionError):
        get_chat(server)
    assert get_chat(server).status_code == 200  # the server itself is fine
    dropped = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"][0]
    assert dropped["status"] is None and dropped["faults"] == ["fault-1"]


def test_malformed_json_is_a_truncated_json_answer(server) -> None:
    add_faults(server, {"malformed_json": True})
    response = get_chat(server)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert 0 < len(response.content) < len(json.dumps(response.text))
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_object_root_answers_the_documented_php_style_object(server) -> None:
    expected = get_chat(server).json()
    add_faults(server, {"object_root": True})
    answer = get_chat(server).json()
    assert answer == {str(i): label for i, label in enumerate(expected)}
    assert list(answer) == ["0", "1", "2"]


# -- how often ------------------------------------------------------------------------------
def test_times_applies_to_the_next_n_matching_requests_then_expires(server) -> None:
    add_faults(server, {"status": 500, "times": 2})
    statuses = [get_chat(server).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    assert requests.get(f"{server.url}/__admin/faults", timeout=5).json() == {"faults": []}


def test_remaining_times_are_listed(server) -> None:
    add_faults(server, {"id": "flaky", "status": 500, "times": 3})
    get_chat(server)
    assert requests.get(f"{server.url}/__admin/faults", timeout=5).json()["faults"] == [
        {"id": "flaky", "status": 500, "times": 2}
    ]


def test_probability_under_a_seed_replays_identically(start_server) -> None:
    """Two servers with the same seeded rule fail the same requests of the same sequence."""
    rule = {"status": 500, "probability": 0.5, "seed": 42}
    runs = []
    for _ in range(2):
        server = start_server()
        add_faults(server, rule)
        runs.append([get_chat(server).status_code for _ in range(30)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}  # a coin, not a constant
    server = start_server()
    add_faults(server, {**rule, "seed": 7})
    assert [get_chat(server).status_code for _ in range(30)] != runs[0]


def test_latency_rules_add_up_and_the_first_terminal_rule_wins(server) -> None:
    add_faults(
        server,
        [
            {"id": "slow", "latency_ms": 150},
            {"id": "first", "status": 502},
            {"id": "never", "status": 504},
        ],
    )
    started = time.perf_counter()
    assert get_chat(server).status_code == 502
    assert time.perf_counter() - started >= 0.14
    entry = requests.get(f"{server.url}/__admin/requests", timeout=5).json()["requests"][0]
    assert entry["faults"] == ["slow", "first"]


# -- matching -------------------------------------------------------------------------------
def test_matching_by_method_and_path_glob(server) -> None:
    add_faults(server, {"match": {"method": "put", "path": "/v2/labels/*/chats/*"}, "status": 500})
    assert get_chat(server).status_code == 200
    link = requests.put(f"{server.url}/v2/labels/1/chats/{CHAT}", params=AUTH, timeout=5)
    assert link.status_code == 500
    assert requests.get(f"{server.url}/v2/labels", params=AUTH, timeout=5).status_code == 200


def test_matching_by_instance_id_or_session(server) -> None:
    add_faults(server, {"match": {"instance": "default"}, "status": 503})
    add_faults(server, {"match": {"instance": "987654321"}, "status": 500})
    assert get_chat(server).status_code == 503  # instance 123456789 is session "default"
    waha = requests.get(
        f"{server.url}/api/default/labels", headers={"X-Api-Key": "123456789"}, timeout=5
    )
    assert waha.status_code == 503
    assert waha.json()["statusCode"] == 503  # WAHA's own error shape under /api/
    sales = requests.get(f"{server.url}/v2/labels", params=SALES_AUTH, timeout=5)
    assert sales.status_code == 500


def test_matching_by_chat_in_any_form(server) -> None:
    add_faults(server, {"match": {"chat": "5511988887777"}, "status": 500})
    for form in ("5511988887777@c.us", "5511988887777%40c.us", "5511988887777@s.whatsapp.net"):
        assert get_chat(server, form).status_code == 500, form
    assert get_chat(server, "5511977776666@c.us").status_code == 200


def test_admin_and_openapi_are_never_faulted(server) -> None:
    add_faults(server, {"status": 500})
    assert requests.get(f"{server.url}/__admin/health", timeout=5).status_code == 200
    assert requests.get(f"{server.url}/openapi.json", timeout=5).status_code == 200
    assert get_chat(server).status_code == 500


# -- rules: validation and management -------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "pointer"),
    [
        ({"status": 99}, "/0/status"),
        ({"status": 500, "drop_connection": True}, "/0"),
        ({"match": {"path": "/v2/*"}}, "/0"),
        ({"latency_ms": {"min": 50, "max": 10}}, "/0/latency_ms"),
        ({"status": 500, "match": {"chat": "not-a-chat"}}, "/0/match/chat"),
        ({"message": "no status", "latency_ms": 5}, "/0"),
        ({"status": 500, "colour": "red"}, "/0"),
    ],
)
def test_a_bad_rule_is_refused_with_its_pointer(server, rule: dict, pointer: str) -> None:
    response = requests.post(f"{server.url}/__admin/faults", json=rule, timeout=5)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_fault_rule"
    assert pointer in [problem["pointer"] for problem in body["problems"]]
    assert requests.get(f"{server.url}/__admin/faults", timeout=5).json() == {"faults": []}


def test_a_batch_is_added_all_or_nothing_and_ids_stay_unique(server) -> None:
    add_faults(server, {"id": "a", "status": 500})
    response = requests.post(
        f"{server.url}/__admin/faults", json=[{"status": 502}, {"id": "a", "status": 503}]
    )
    assert response.status_code == 422
    assert [p["pointer"] for p in response.json()["problems"]] == ["/1/id"]
    assert [r["id"] for r in requests.get(f"{server.url}/__admin/faults").json()["faults"]] == ["a"]


def test_rules_are_removed_one_by_one_or_all(server) -> None:
    add_faults(server, [{"id": "x", "status": 500}, {"id": "y", "status": 502}])
    assert requests.delete(f"{server.url}/__admin/faults/x", timeout=5).status_code == 200
    assert get_chat(server).status_code == 502
    missing = requests.delete(f"{server.url}/__admin/faults/x", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"] == "fault_not_found"
    requests.delete(f"{server.url}/__admin/faults", timeout=5).raise_for_status()
    assert get_chat(server).status_code == 200


def test_fixture_faults_apply_from_start_and_come_back_on_reset(start_server) -> None:
    fixture = default_fixture_data()
    fixture["faults"] = [{"id": "boot", "status": 500, "times": 1}]
    server = start_server(fixture)
    assert [get_chat(server).status_code for _ in range(2)] == [500, 200]
    requests.post(f"{server.url}/__admin/reset", timeout=5).raise_for_status()
    assert [get_chat(server).status_code for _ in range(2)] == [500, 200]


def test_a_fixture_with_a_bad_fault_is_refused_with_its_pointer() -> None:
    fixture = default_fixture_data()
    fixture["faults"] = [{"status": 500}, {"latency_ms": {"min": 9, "max": 1}}]
    with pytest.raises(FixtureError) as caught:
        parse_fixture(fixture)
    assert [p.pointer for p in caught.value.problems] == ["/faults/1/latency_ms"]


# -- rate limits ----------------------------------------------------------------------------
def limited_fixture(requests_per_window: int = 2, window: float = 60) -> dict:
    fixture = default_fixture_data()
    fixture["instances"][0]["rate_limit"] = {
        "requests": requests_per_window,
        "window_seconds": window,
    }
    return fixture


def test_a_rate_limit_answers_429_with_retry_after_and_the_error_body(start_server) -> None:
    server = start_server(limited_fixture(2, 60))
    assert [get_chat(server).status_code for _ in range(2)] == [200, 200]
    refused = get_chat(server)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["status"] == 429 and body["error"] == "rate_limited"
    assert "123456789" in body["message"]
    # Per instance: the other instance is not limited, the WAHA session is the same one.
    assert requests.get(f"{server.url}/v2/labels", params=SALES_AUTH).status_code != 429
    waha = requests.get(f"{server.url}/api/default/labels", headers={"X-Api-Key": "123456789"})
    assert waha.status_code == 429 and "Retry-After" in waha.headers


def test_requests_with_a_wrong_secret_do_not_spend_the_quota(start_server) -> None:
    server = start_server(limited_fixture(1, 60))
    url = f"{server.url}/v2/labels/chats/{CHAT}"
    wrong = {**AUTH, "access_token": "not-the-token"}
    assert [requests.get(url, params=wrong, timeout=5).status_code for _ in range(3)] == [401] * 3
    waha = requests.get(f"{server.url}/api/default/labels", headers={"X-Api-Key": "no"}, timeout=5)
    assert waha.status_code == 401
    assert get_chat(server).status_code == 200  # the owner still has the whole quota
    assert get_chat(server).status_code == 429


def test_the_window_slides(start_server) -> None:
    """Refused within the window, with Retry-After the whole seconds until the counted
    request leaves it; served again once it has. The window is 2 s (it was 0.3 s: a loaded
    machine could let that pass between the two requests); the bounds below come from
    this side's clock around the requests (the server's clock is the same)."""
    window = 2.0
    server = start_server(limited_fixture(1, window))
    sent = time.monotonic()
    assert get_chat(server).status_code == 200
    counted = time.monotonic()  # the server counted the request in [sent, counted]
    refused = get_chat(server)
    after = time.monotonic()
    assert refused.status_code == 429
    earliest = max(1, math.ceil(sent + window - after))
    assert earliest <= int(refused.headers["Retry-After"]) <= math.ceil(window)
    time.sleep(max(0.0, counted + window + 0.05 - time.monotonic()))
    assert get_chat(server).status_code == 200


def test_rate_limits_are_set_read_and_removed_through_the_control_api(server) -> None:
    url = f"{server.url}/__admin/instances/default/rate-limit"
    assert requests.get(url, timeout=5).json() == {"rate_limit": None}
    set_ = requests.put(url, json={"requests": 1, "window_seconds": 30}, timeout=5)
    assert set_.json() == {"rate_limit": {"requests": 1, "window_seconds": 30}}
    assert [get_chat(server).status_code for _ in range(2)] == [200, 429]
    by_id = f"{server.url}/__admin/instances/123456789/rate-limit"
    assert requests.get(by_id, timeout=5).json()["rate_limit"]["requests"] == 1
    requests.delete(url, timeout=5).raise_for_status()
    assert get_chat(server).status_code == 200
    bad = requests.put(url, json={"requests": 0, "window_seconds": 30}, timeout=5)
    assert bad.status_code == 422 and bad.json()["problems"][0]["pointer"] == "/requests"
    unknown = requests.put(f"{server.url}/__admin/instances/nope/rate-limit", json={})
    assert unknown.status_code == 404 and unknown.json()["error"] == "instance_not_found"


def test_the_limiter_counts_in_a_sliding_window() -> None:
    now = [100.0]
    limits = RateLimits({"i": {"requests": 2, "window_seconds": 10}}, clock=lambda: now[0])
    limits.admit("i")
    now[0] = 104.0
    limits.admit("i")
    now[0] = 109.5
    with pytest.raises(Exception) as refused:
        limits.admit("i")
    assert refused.value.headers == {"Retry-After": "1"}  # 0.5 s rounds up to 1
    now[0] = 110.0
    limits.admit("i")  # the request at 100 has left the window
    limits.admit("unlimited")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(server, constant: str) -> None:
    body = f'{{"latency_ms": {constant}}}'
    response = requests.post(f"{server.url}/__admin/faults", data=body, timeout=5)
    assert response.status_code == 400
    assert constant in response.json()["message"]
