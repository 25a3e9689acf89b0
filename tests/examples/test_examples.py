"""Every example under examples/ runs against the mock (through the chatlabels_mock fixture)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
import yaml

from chatlabels.contract.schemas import PALETTE
from tests.conftest import default_fixture_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(relative: str) -> ModuleType:
    path = EXAMPLES / relative
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bot = load_example("python_client/labels_bot.py")
receiver = load_example("webhook_receiver/receiver.py")


@pytest.fixture
def client(chatlabels_mock: Any) -> Any:
    return bot.LabelsClient(
        chatlabels_mock.base_url, chatlabels_mock.instance_id, chatlabels_mock.access_token
    )


# -- python_client --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("chat", "reply"),
    [
        ("5511977776666@c.us", "Here is our bulk price list."),  # Wholesale (5)
        ("5511966665555@c.us", "Here is our standard price list."),  # Retail (2)
        ("5511999990000@c.us", "Are you buying for a business"),  # no labels
        ("5511900000001@c.us", "Are you buying for a business"),  # never seen
    ],
)
def test_label_aware_bot_picks_the_price_list(client: Any, chat: str, reply: str) -> None:
    assert bot.price_reply(client, chat).startswith(reply)


def test_label_aware_bot_follows_label_changes(client: Any, chatlabels_mock: Any) -> None:
    chat = "5511999990000@c.us"
    chatlabels_mock.link("5", chat)
    assert bot.price_reply(client, chat) == "Here is our bulk price list."


@pytest.mark.parametrize(
    ("chat", "vip"),
    [("5511988887777@c.us", True), ("203251182247977@lid", True), ("123456789@c.us", False)],
)
def test_vip_auto_reply(client: Any, chat: str, vip: bool) -> None:
    assert bot.vip_auto_reply(client, chat).startswith("Hello VIP!") is vip


def test_badges_map_color_to_color_hex(client: Any) -> None:
    assert bot.badges(client, "5511988887777@c.us") == [
        {"text": "VIP", "bgcolor": "#ffd429", "isUrgent": False},
        {"text": "Pending Payment", "bgcolor": "#dfaef0", "isUrgent": False},
        {"text": "Assigned to Alice", "bgcolor": PALETTE[5], "isUrgent": False},
    ]
    assert bot.badges(client, "123456789@c.us") == [
        {"text": "New Customer", "bgcolor": "#ff9485", "isUrgent": True}
    ]
    assert bot.badges(client, "5511999990000@c.us") == []


def test_client_survives_the_documented_object_root(client: Any, chatlabels_mock: Any) -> None:
    chatlabels_mock.add_fault(object_root=True, times=1)
    assert bot.vip_auto_reply(client, "5511988887777@c.us").startswith("Hello VIP!")
    [entry] = chatlabels_mock.journal()
    assert entry["faults"], "the object-root fault did not apply"


def test_client_error_names_the_status_not_the_token(chatlabels_mock: Any) -> None:
    client = bot.LabelsClient(chatlabels_mock.base_url, chatlabels_mock.instance_id, "wrong-x9")
    with pytest.raises(RuntimeError, match=r"401") as raised:
        client.chat_labels("5511988887777@c.us")
    assert "wrong-x9" not in str(raised.value)


def invoice_fixture() -> dict[str, Any]:
    """The default account plus the page's "Invoice Sent" label, already on one chat."""
    fixture = default_fixture_data()
    shop = fixture["instances"][0]
    shop["labels"].append({"id": "10", "name": "Invoice Sent", "color": 9})
    shop["chats"]["5511955554444-1612345678@g.us"].append("10")
    return fixture


@pytest.mark.chatlabels_fixture(invoice_fixture())
def test_check_before_action_sends_the_invoice_once(client: Any, chatlabels_mock: Any) -> None:
    sent: list[str] = []
    assert bot.send_invoice_once(client, "5511988887777@c.us", sent.append) is True
    assert bot.send_invoice_once(client, "5511988887777@c.us", sent.append) is False
    assert bot.send_invoice_once(client, "5511955554444-1612345678@g.us", sent.append) is False
    # another agent tags a chat first: the bot must not send
    chatlabels_mock.link("10", "5511966665555@c.us")
    assert bot.send_invoice_once(client, "5511966665555@c.us", sent.append) is False
    assert sent == ["5511988887777@c.us"]
    assert "Invoice Sent" in [label["name"] for label in client.chat_labels("5511988887777@c.us")]


def test_check_before_action_needs_the_label(client: Any) -> None:
    with pytest.raises(LookupError, match="Invoice Sent"):
        bot.send_invoice_once(client, "5511988887777@c.us", lambda chat: None)


def test_demo_script_prints_each_pattern(chatlabels_mock: Any) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_client/labels_bot.py"),
         "--base-url", chatlabels_mock.base_url, "--instance-id", chatlabels_mock.instance_id,
         "5511977776666@c.us", "5511988887777@c.us"],
        env={**os.environ, "CHATLABELS_ACCESS_TOKEN": chatlabels_mock.access_token},
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    wholesale, vip = (json.loads(line) for line in result.stdout.splitlines())
    assert wholesale["price_reply"] == "Here is our bulk price list."
    assert [badge["text"] for badge in vip["badges"]] == [
        "VIP",
        "Pending Payment",
        "Assigned to Alice",
    ]
    assert vip["invoice_already_sent"] is False


# -- node -----------------------------------------------------------------------------------
def run_node(mock: Any, chat: str, token: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH; the fetch example needs Node 18 or later")
    env = {
        **os.environ,
        "CHATLABELS_BASE_URL": mock.base_url,
        "CHATLABELS_INSTANCE_ID": mock.instance_id,
        "CHATLABELS_ACCESS_TOKEN": token,
    }
    return subprocess.run(
        [node, str(EXAMPLES / "node/get-chat-labels.mjs"), chat],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_node_fetch_example_gets_the_chat_labels(chatlabels_mock: Any) -> None:
    result = run_node(chatlabels_mock, "5511988887777@c.us", chatlabels_mock.access_token)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["labels"] == chatlabels_mock.chat_labels("5511988887777@c.us")
    assert output["isVIP"] is True
    [entry] = chatlabels_mock.journal()
    assert entry["path"] == "/v2/labels/chats/5511988887777@c.us"


def test_node_fetch_example_reports_an_api_error(chatlabels_mock: Any) -> None:
    result = run_node(chatlabels_mock, "5511988887777@c.us", "wrong-token-x9")
    assert result.returncode == 1
    assert "401 unauthorized" in result.stderr
    assert "wrong-token-x9" not in result.stderr + result.stdout


# -- webhook receiver -----------------------------------------------------------------------
@pytest.fixture
def webhook_receiver() -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    events: list[dict[str, Any]] = []
    server = receiver.make_server(0, "s3cret", events.append)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, events
    server.shutdown()
    server.server_close()


def hooked_fixture(port: int, key: str) -> dict[str, Any]:
    return {
        "instances": [
            {
                "id": "1",
                "token": "t",
                "labels": [{"id": "3", "name": "VIP", "color": 2}],
                "webhooks": [
                    {
                        "url": f"http://127.0.0.1:{port}/",
                        "events": ["label.chat.added"],
                        "hmac": {"key": key},
                        "retries": {"attempts": 0},
                    }
                ],
            }
        ]
    }


def test_webhook_receiver_accepts_a_signed_delivery_from_the_mock(
    chatlabels_mock: Any, webhook_receiver: tuple[Any, list[dict[str, Any]]]
) -> None:
    server, events = webhook_receiver
    chatlabels_mock.load(hooked_fixture(server.server_port, "s3cret"))
    chatlabels_mock.link("3", "5511999990000@c.us")
    [delivery] = chatlabels_mock.wait_for_deliveries(event="label.chat.added")
    assert delivery["outcome"] == "delivered"
    [event] = events
    assert event["event"] == "label.chat.added"
    assert event["payload"]["chatId"] == "5511999990000@c.us"


def test_webhook_receiver_rejects_a_delivery_signed_with_another_key(
    chatlabels_mock: Any, webhook_receiver: tuple[Any, list[dict[str, Any]]]
) -> None:
    server, events = webhook_receiver
    chatlabels_mock.load(hooked_fixture(server.server_port, "not-the-shared-key"))
    chatlabels_mock.link("3", "5511999990000@c.us")
    [delivery] = chatlabels_mock.wait_for_deliveries(event="label.chat.added")
    assert delivery["outcome"] == "failed"
    assert [attempt["statusCode"] for attempt in delivery["attempts"]] == [401]
    assert events == []


def test_verify_signature_rejects_tampering() -> None:
    body = b'{"event":"label.chat.added"}'
    good = {
        "X-Webhook-Hmac": hmac.new(b"k", body, hashlib.sha512).hexdigest(),
        "X-Webhook-Hmac-Algorithm": "sha512",
    }
    assert receiver.verify_signature(body, good, "k")
    assert not receiver.verify_signature(body + b" ", good, "k")
    assert not receiver.verify_signature(body, good, "other")
    assert not receiver.verify_signature(body, {**good, "X-Webhook-Hmac-Algorithm": "sha256"}, "k")
    assert not receiver.verify_signature(body, {}, "k")


def test_webhook_receiver_script_answers_401_to_unsigned_posts() -> None:
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "webhook_receiver/receiver.py"), "--port", "0",
         "--key", "k"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().strip()
        assert ready.startswith("receiving on http://127.0.0.1:"), ready
        response = requests.post(ready.removeprefix("receiving on "), data=b"{}", timeout=5)
        assert response.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=5)


# -- GitHub Actions workflow ----------------------------------------------------------------
USER_TEST = """
import os, requests

def test_vip_chat_is_labelled():
    response = requests.get(
        os.environ["CHATLABELS_BASE_URL"] + "/v2/labels/chats/5511988887777@c.us",
        params={"instance_id": "123456789", "access_token": "123456789"}, timeout=5)
    assert "VIP" in [label["name"] for label in response.json()]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_github_actions_workflow_steps_run(tmp_path: Path) -> None:
    """Every ``run:`` step but the install runs in order, as the runner would (bash -e)."""
    workflow = yaml.safe_load((EXAMPLES / "github-actions/chatlabels.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"push", "pull_request"}
    [job] = workflow["jobs"].values()
    steps = job["steps"]
    assert [s["uses"].split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout", "actions/setup-python", "actions/upload-artifact",
    ]  # fmt: skip
    runs = [s for s in steps if "run" in s and not s["name"].startswith("Install")]
    assert [s["name"] for s in runs] == [
        "Start the mock", "Wait until it answers", "Run your tests against the mock",
        "Check the contract", "Stop the mock",
    ]  # fmt: skip
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_user.py").write_text(USER_TEST)
    env = {
        **os.environ,
        **job["env"],
        "CHATLABELS_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    pid_file = tmp_path / "reports/mock.pid"
    try:
        for step in runs:
            result = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, f"{step['name']}:\n{result.stdout}\n{result.stderr}"
        pid = int(pid_file.read_text())
        # The step only signals; the mock then exits in its own time (5 s, counted in
        # polls, was tight on a loaded machine: it is gone at once when it is quick).
        deadline = time.monotonic() + 30
        with pytest.raises(ProcessLookupError):
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
    finally:
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
    tests_report = ElementTree.parse(tmp_path / "reports/tests.xml").getroot()
    contract_report = ElementTree.parse(tmp_path / "reports/contract.xml").getroot()
    for report in (tests_report, contract_report):
        suites = [report] if report.tag == "testsuite" else list(report)
        assert sum(int(s.get("tests", 0)) for s in suites) > 0
        assert sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites) == 0
