"""The dashboard at ``/__admin/``: over HTTP (headers, access rules) and in a real headless
browser (badges in the labels' colours, the live journal, the fault form, reset, loading a
fixture file), against a real server on a free port."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.contract.schemas import PALETTE
from chatlabels.mock.control.dashboard import ASSETS
from tests.conftest import FIXTURES_DIR, default_fixture_data

pytest_plugins = ["tests.browser"]  # the shared headless-browser fixtures

DOCS = {"instance_id": "123456789", "access_token": "123456789"}
DASHBOARD_DIR = Path(__file__).resolve().parents[3] / "mock_server" / "control" / "dashboard"


def rgb(hex_color: str) -> str:
    """A ``#rrggbb`` as the browser's computed style writes it."""
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


# -- over HTTP ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/__admin/", "/__admin"])
def test_the_page_is_html_kept_to_its_own_origin(default_server: Any, path: str) -> None:
    response = requests.get(default_server.url + path, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert json.loads(re.search(r'id="palette">(.*?)<', response.text).group(1)) == list(PALETTE)


def test_the_files_name_no_other_host() -> None:
    for name in ASSETS:
        text = (DASHBOARD_DIR / name).read_text("utf-8")
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), name
        assert not re.search(r"url\(|@import|fetch\(\s*[\"']https?:", text), name


def test_the_json_control_api_is_unchanged_beside_it(default_server: Any) -> None:
    response = requests.get(f"{default_server.url}/__admin/health", timeout=5)
    assert response.headers["Content-Type"] == "application/json"
    missing = requests.get(f"{default_server.url}/__admin/nothing-here", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/json"


def test_off_beyond_loopback_without_a_token(start_server: Any) -> None:
    server = start_server(host="0.0.0.0")  # listens everywhere, called on loopback only
    url = f"http://127.0.0.1:{server.port}/__admin/"
    assert requests.get(url, timeout=5).json()["error"] == "admin_disabled"


def test_with_a_token_the_page_loads_and_its_data_needs_the_token(start_server: Any) -> None:
    server = start_server(admin_token="s3cret")
    assert requests.get(f"{server.url}/__admin/", timeout=5).status_code == 200
    assert requests.get(f"{server.url}/__admin/dashboard.js", timeout=5).status_code == 200
    assert requests.get(f"{server.url}/__admin/requests", timeout=5).status_code == 401
    page = requests.get(f"{server.url}/__admin/", timeout=5).text
    assert "s3cret" not in page


def test_another_origin_is_refused(default_server: Any) -> None:
    response = requests.get(
        f"{default_server.url}/__admin/", headers={"Origin": "http://evil.example"}, timeout=5
    )
    assert response.status_code == 403


# -- in the browser -----------------------------------------------------------------------


def badge_colors(page: Any, selector: str) -> list[tuple[str, str, str]]:
    """(label name, the label's colorHex as the page knows it, the computed background)."""
    found = page.eval_on_selector_all(
        selector,
        "nodes => nodes.map(n => [n.textContent, n.dataset.colorHex,"
        " getComputedStyle(n).backgroundColor])",
    )
    return [tuple(badge) for badge in found]


def journal_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#journal tbody tr",
        "rows => rows.map(r => ({id: r.dataset.id, status: r.dataset.status,"
        " path: r.children[3].textContent, faults: r.children[7].textContent}))",
    )


def wait_for_journal_paths(page: Any, paths: list[str]) -> None:
    """Wait until the journal shows exactly these paths, newest first.

    Waiting on the row count alone passes on the rows of the filter before the last one,
    when they happen to be as many.
    """
    page.wait_for_function(
        "paths => JSON.stringify([...document.querySelectorAll('#journal tbody tr')]"
        ".map(r => r.children[3].textContent)) === JSON.stringify(paths)",
        arg=paths,
    )


def test_dashboard_in_a_real_browser(start_server: Any, page: Any, tmp_path: Path) -> None:
    server = start_server()
    asked: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{server.url}/__admin/")

    # the default fixture's chats, with their labels as badges in each label's colour
    chat = '.instance[data-instance="123456789"] tr[data-chat="5511988887777@c.us"] .badge'
    page.wait_for_selector(chat)
    instance = parse_fixture(default_fixture_data())["instances"][0]
    labels = {label["id"]: label for label in instance["labels"]}
    expected = [labels[i] for i in instance["chats"]["5511988887777@c.us"]]
    assert badge_colors(page, chat) == [
        (label["name"], PALETTE[label["color"]], rgb(PALETTE[label["color"]])) for label in expected
    ]
    for name, hex_color, computed in badge_colors(page, ".badge"):
        assert computed == rgb(hex_color), name
    directory = badge_colors(page, '.instance[data-instance="123456789"] .directory .badge')
    assert [name for name, _, _ in directory] == [label["name"] for label in labels.values()]

    # an API call appears in the journal, secrets redacted, full entry on click
    url = f"{server.url}/v2/labels/chats/5511988887777@c.us"
    assert requests.get(url, params=DOCS, timeout=5).status_code == 200
    row = page.wait_for_selector('#journal tbody tr[data-status="200"]')
    row.click()
    entry = json.loads(page.text_content("#entry"))
    assert entry["path"] == "/v2/labels/chats/5511988887777@c.us"
    assert entry["query"]["access_token"] == ["[redacted]"]

    # a fault rule added from the form makes the next call fail with it
    page.fill('#fault-form input[name="id"]', "from-the-form")
    page.fill('#fault-form input[name="path"]', "/v2/labels/chats/*")
    page.fill('#fault-form input[name="status"]', "503")
    page.fill('#fault-form input[name="times"]', "1")
    page.click('#fault-form button[type="submit"]')
    page.wait_for_selector('#faults tr[data-id="from-the-form"]')
    assert requests.get(url, params=DOCS, timeout=5).status_code == 503
    page.wait_for_selector('#journal tbody tr[data-status="503"]')
    assert journal_rows(page)[0]["faults"] == "from-the-form"  # newest first
    page.fill('#journal-filter input[name="status"]', "5xx")
    wait_for_journal_paths(page, ["/v2/labels/chats/5511988887777@c.us"])
    assert [row["status"] for row in journal_rows(page)] == ["503"]
    page.fill('#journal-filter input[name="status"]', "")

    # a rule removed from its row is gone
    page.fill('#fault-form input[name="id"]', "second")
    page.click('#fault-form button[type="submit"]')
    page.wait_for_selector('#faults tr[data-id="second"]')
    if os.environ.get("CHATLABELS_SCREENSHOT"):  # how docs/dashboard.png is made
        page.screenshot(path=os.environ["CHATLABELS_SCREENSHOT"], full_page=True)
    page.click('#faults tr[data-id="second"] button')
    page.wait_for_selector('#faults tr[data-id="second"]', state="detached")

    # reset: the journal and the fault rules are empty again
    page.click("#reset")
    page.wait_for_function("() => document.querySelectorAll('#journal tbody tr').length === 0")
    page.wait_for_function("() => document.querySelectorAll('#faults tbody tr').length === 0")

    # loading a fixture file from the page
    page.set_input_files("#fixture-file", str(FIXTURES_DIR / "full-account.json"))
    page.wait_for_function(
        "() => document.querySelectorAll('.instance .directory .badge').length === 20"
    )
    # The timer's refresh can draw the new fixture before the page has handled the upload's
    # own answer, which writes the message: wait for it rather than read it at once.
    page.wait_for_function(
        "() => document.querySelector('#message').textContent.includes('Loaded a fixture')"
    )

    assert problems == []  # no script error, no Content-Security-Policy violation
    assert asked and all(address.startswith(server.url) for address in asked)


def test_webhook_deliveries_and_journal_filters_in_the_browser(
    start_server: Any, page: Any, receiver: Any
) -> None:
    fixture = default_fixture_data()
    fixture["instances"][0]["webhooks"] = [
        {
            "url": f"{receiver.url}/hook",
            "events": ["label.chat.added"],
            "retries": {"delaySeconds": 0.1, "attempts": 2},
        }
    ]
    receiver.statuses = [503]  # the first attempt fails, the retry is delivered
    server = start_server(fixture)
    page.goto(f"{server.url}/__admin/")
    page.wait_for_selector(".instance")
    link = f"{server.url}/v2/labels/1/chats/5511999990000%40c.us"
    assert requests.put(link, params=DOCS, timeout=5).status_code == 200
    row = page.wait_for_selector("#webhooks tbody tr:has-text('delivered')", timeout=20_000)
    cells = row.eval_on_selector_all("td", "cells => cells.map(c => c.textContent)")
    assert cells[:2] == ["label.chat.added", "123456789"]
    assert cells[2] == f"{receiver.url}/hook"
    assert cells[4].startswith("#1: 503") and "#2: 200" in cells[4]
    # the chat now carries the label, drawn in its colour
    page.wait_for_selector('tr[data-chat="5511999990000@c.us"] .badge[data-label-id="1"]')

    # filters: path (a glob) and instance, on top of the live list
    other = f"{server.url}/api/sales/labels"
    requests.get(other, headers={"X-Api-Key": "987654321"}, timeout=5)
    linked = "/v2/labels/1/chats/5511999990000@c.us"
    wait_for_journal_paths(page, ["/api/sales/labels", linked])
    page.fill('#journal-filter input[name="instance"]', "sales")
    wait_for_journal_paths(page, ["/api/sales/labels"])
    page.fill('#journal-filter input[name="instance"]', "")
    page.fill('#journal-filter input[name="path"]', "/v2/*")
    wait_for_journal_paths(page, [linked])


def test_with_an_admin_token_the_page_asks_for_it(start_server: Any, page: Any) -> None:
    server = start_server(admin_token="s3cret")
    page.goto(f"{server.url}/__admin/")
    page.wait_for_selector("#token-form:not([hidden])")
    assert page.query_selector(".badge") is None  # no data without the token
    page.fill("#token", "s3cret")
    page.click("#token-form button")
    page.wait_for_selector('.instance[data-instance="123456789"] .badge')
    assert page.is_hidden("#token-form")
