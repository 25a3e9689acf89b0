"""The ``chatlabels_mock`` fixture seen from outside: a user's test files run by pytester.

The plugin is found through its ``pytest11`` entry point, as in a user's project; each
inner run uses ``--strict-markers`` so the marker must be registered.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

pytest_plugins = ["pytester"]

STRICT = ("--strict-markers", "-p", "no:cacheprovider")


def test_entry_point_registers_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_plugin_loaded(request):
            assert request.config.pluginmanager.has_plugin("chatlabels_mock")
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=1)


def test_default_fixture_over_http_and_state_reset_between_tests(pytester: pytest.Pytester) -> None:
    """A change made in one test (over HTTP or by a helper) is gone in the next test."""
    pytester.makepyfile(
        """
        import requests

        URL = "{base}/v2/labels/chats/5511999990000@c.us"
        urls = []

        def get(mock):
            return requests.get(URL.format(base=mock.base_url), params=mock.auth, timeout=5)

        def test_link_over_http(chatlabels_mock):
            urls.append(chatlabels_mock.base_url)
            assert chatlabels_mock.instance_id == "123456789"
            assert get(chatlabels_mock).json() == []
            put = requests.put(
                chatlabels_mock.base_url + "/v2/labels/3/chats/5511999990000@c.us",
                params=chatlabels_mock.auth, timeout=5,
            )
            assert put.json()["success"] is True
            assert [l["name"] for l in get(chatlabels_mock).json()] == ["VIP"]

        def test_link_by_helper(chatlabels_mock):
            urls.append(chatlabels_mock.base_url)
            assert get(chatlabels_mock).json() == []
            assert chatlabels_mock.link("5", "5511999990000")
            chatlabels_mock.link("2", "5511999990000@c.us")
            assert [l["id"] for l in get(chatlabels_mock).json()] == ["5", "2"]

        def test_state_is_back_and_server_is_shared(chatlabels_mock):
            assert get(chatlabels_mock).json() == []
            assert chatlabels_mock.state()["instances"][0]["chats"]["5511999990000@c.us"] == []
            assert urls == [chatlabels_mock.base_url] * 2
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=3)


FIXTURE = {
    "instances": [
        {
            "id": "inst-1",
            "token": "secret-1",
            "session": "shop",
            "labels": [{"id": "10", "name": "Lead", "color": 13}],
            "chats": {"491700000001@c.us": ["10"]},
        }
    ]
}


def test_marker_takes_a_relative_path_or_an_inline_dict(pytester: pytest.Pytester) -> None:
    pytester.mkdir("data")
    pytester.path.joinpath("data", "shop.json").write_text(json.dumps(FIXTURE))
    pytester.makepyfile(
        f"""
        import pytest, requests

        INLINE = {FIXTURE!r}
        INLINE["instances"][0]["labels"][0]["name"] = "Inline Lead"

        def names(mock):
            r = requests.get(mock.base_url + "/v2/labels/chats/491700000001@c.us",
                             params=mock.auth, timeout=5)
            return [label["name"] for label in r.json()]

        @pytest.mark.chatlabels_fixture("data/shop.json")
        def test_path(chatlabels_mock):
            assert (chatlabels_mock.instance_id, chatlabels_mock.access_token) == (
                "inst-1", "secret-1")
            assert (chatlabels_mock.session, chatlabels_mock.api_key) == ("shop", "secret-1")
            assert names(chatlabels_mock) == ["Lead"]

        @pytest.mark.chatlabels_fixture(INLINE)
        def test_inline(chatlabels_mock):
            assert names(chatlabels_mock) == ["Inline Lead"]

        def test_unmarked_gets_default(chatlabels_mock):
            assert chatlabels_mock.instance_id == "123456789"
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=3)


def test_overridden_and_parametrised_fixture(pytester: pytest.Pytester) -> None:
    """A conftest override applies to a whole directory; parametrising runs one test per state;
    a marker still wins over both."""
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture
        def chatlabels_fixture():
            return {FIXTURE!r}
        """
    )
    pytester.makepyfile(
        """
        import copy, pytest

        def test_conftest_override(chatlabels_mock):
            assert chatlabels_mock.instance_id == "inst-1"
            assert [l["name"] for l in chatlabels_mock.chat_labels("491700000001")] == ["Lead"]

        def other(instance_id):
            return {"instances": [{"id": instance_id, "token": "t"}]}

        @pytest.mark.parametrize("chatlabels_fixture", [other("a"), other("b")])
        def test_parametrised(chatlabels_mock, chatlabels_fixture):
            assert chatlabels_mock.instance_id == chatlabels_fixture["instances"][0]["id"]
            assert chatlabels_mock.labels() == []

        @pytest.mark.chatlabels_fixture(other("marked"))
        def test_marker_wins(chatlabels_mock):
            assert chatlabels_mock.instance_id == "marked"
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=4)


def test_helpers_set_labels_unlink_and_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_helpers(chatlabels_mock):
            chat = "5511988887777@c.us"
            assert [l["id"] for l in chatlabels_mock.chat_labels(chat)] == ["3", "4", "6"]
            chatlabels_mock.set_labels(chat, ["6", "1"])
            assert [l["id"] for l in chatlabels_mock.chat_labels(chat)] == ["6", "1"]
            assert chatlabels_mock.unlink("6", chat) is True
            assert chatlabels_mock.unlink("6", chat) is False
            chatlabels_mock.reset()
            assert [l["id"] for l in chatlabels_mock.chat_labels(chat)] == ["3", "4", "6"]
            with pytest.raises(ValueError, match="not a chat id"):
                chatlabels_mock.link("1", "not a chat")
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=1)


def test_bad_fixture_and_bad_marker_fail_the_test_with_the_reason(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chatlabels_fixture({"instances": [{"id": "x"}]})
        def test_missing_token(chatlabels_mock):
            pass

        @pytest.mark.chatlabels_fixture("a.json", "b.json")
        def test_two_args(chatlabels_mock):
            pass
        """
    )
    result = pytester.runpytest(*STRICT)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*<inline fixture>: /instances/0: 'token' is a required property*",
            "*chatlabels_fixture takes one argument*",
        ]
    )


@pytest.mark.skipif(
    importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed"
)
def test_one_server_per_xdist_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under xdist each worker has its own server (its own port and state), and tests pass.

    Only xdist and this plugin are loaded (the entry point is tested above): every other
    installed plugin would be imported by three processes, for seconds, to no purpose.
    """
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(
        """
        import os, pytest

        @pytest.mark.parametrize("n", range(6))
        def test_worker_server(chatlabels_mock, n):
            chatlabels_mock.link("3", "5511999990000")
            assert [l["id"] for l in chatlabels_mock.chat_labels("5511999990000")] == ["3"]
            with open(f"port-{os.environ['PYTEST_XDIST_WORKER']}-{n}", "w") as f:
                f.write(str(chatlabels_mock.server.port))
        """
    )
    result = pytester.runpytest_subprocess(
        *STRICT, "-p", "xdist", "-p", "chatlabels.mock.testing.plugin", "-n", "2"
    )
    result.assert_outcomes(passed=6)
    ports: dict[str, set[str]] = {}
    for path in pytester.path.glob("port-*"):
        ports.setdefault(path.name.split("-")[1], set()).add(path.read_text())
    assert sorted(ports) == ["gw0", "gw1"]
    assert all(len(p) == 1 for p in ports.values()), ports
    assert ports["gw0"] != ports["gw1"]


def test_faults_journal_and_webhooks_helpers_are_per_test(pytester: pytest.Pytester) -> None:
    """Faults, journal entries and webhook deliveries of one test are gone in the next."""
    pytester.makepyfile(
        """
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import pytest, requests

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        HOOKED = {"instances": [{
            "id": "1", "token": "t", "labels": [{"id": "1", "name": "VIP", "color": 2}],
            "webhooks": [{"url": f"http://127.0.0.1:{receiver.server_port}/hook",
                          "events": ["label.chat.added"]}],
        }]}

        def get_labels(mock):
            return requests.get(mock.base_url + "/v2/labels/chats/5511999990000@c.us",
                                params=mock.auth, timeout=5)

        def test_fault_and_journal(chatlabels_mock):
            rule = chatlabels_mock.add_fault(status=403, error="quota_reached", times=1)
            assert chatlabels_mock.faults() == [rule]
            first, second = get_labels(chatlabels_mock), get_labels(chatlabels_mock)
            assert (first.status_code, first.json()["error"]) == (403, "quota_reached")
            assert second.status_code == 200
            entries = chatlabels_mock.journal(path="/v2/labels/chats/*")
            assert [e["status"] for e in entries] == [403, 200]
            assert entries[0]["faults"] == [rule["id"]]
            assert entries[1]["query"]["access_token"] == ["[redacted]"]

        @pytest.mark.chatlabels_fixture(HOOKED)
        def test_webhook_delivery(chatlabels_mock):
            chatlabels_mock.link("1", "5511999990000@c.us")
            [delivery] = chatlabels_mock.wait_for_deliveries(event="label.chat.added")
            assert delivery["outcome"] == "delivered"
            assert chatlabels_mock.deliveries(event="label.chat.added") == [delivery]

        def test_next_test_starts_clean(chatlabels_mock):
            assert chatlabels_mock.faults() == []
            assert chatlabels_mock.journal() == []
            assert chatlabels_mock.deliveries() == []
            assert get_labels(chatlabels_mock).status_code == 200
        """
    )
    pytester.runpytest(*STRICT).assert_outcomes(passed=3)


def test_handle_wraps_any_started_server(start_server) -> None:
    """Outside pytest's fixture, ChatLabelsMock(server) knows the server's first instance."""
    from chatlabels.mock.testing.handle import ChatLabelsMock

    server = start_server({"instances": [{"id": "77", "token": "tok", "session": "s"}]})
    mock = ChatLabelsMock(server)
    assert (mock.base_url, mock.instance_id, mock.access_token) == (server.url, "77", "tok")
    assert mock.auth == {"instance_id": "77", "access_token": "tok"}
