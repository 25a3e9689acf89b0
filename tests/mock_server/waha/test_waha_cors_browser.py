"""A real headless Chromium: a page on one port calls the mock on another, in both dialects.

The page is what a browser dashboard does: ``fetch`` with the key or token in a header
(a non-simple request, so the browser sends a preflight first), a JSON ``PUT`` and a plain
GET. Only the browser enforces CORS, so only a browser can prove a page works.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chatlabels.mock.app import app_state
from chatlabels.mock.serving.server import MockServer

CHAT = "5511988887777%40c.us"  # VIP, Pending Payment, Assigned to Alice in the default fixture

#: Runs on load; writes what each call got (JSON, or the error the browser gave) into #result.
PAGE = """<!doctype html>
<title>labels dashboard</title>
<pre id="result"></pre>
<script>
const mock = new URLSearchParams(location.search).get("mock");
async function call(name, path, init) {
  try {
    // A hung call is reported as failed rather than stalling the page (machines are loaded).
    const response = await fetch(mock + path, {...init, signal: AbortSignal.timeout(20000)});
    const text = await response.text();
    return [name, {status: response.status, body: text ? JSON.parse(text) : null}];
  } catch (error) {
    return [name, {failed: String(error)}];
  }
}
(async () => {
  const key = {"X-Api-Key": "123456789"};
  const results = [
    await call("waha_get", "/api/default/labels/chats/CHAT", {headers: key}),
    await call("waha_put", "/api/default/labels/chats/CHAT", {
      method: "PUT",
      headers: {...key, "Content-Type": "application/json"},
      body: JSON.stringify({labels: [{id: "3"}, {id: "1"}]}),
    }),
    await call("waha_after_put", "/api/default/labels/chats/CHAT", {headers: key}),
    await call("provider_header", "/v2/labels/chats/CHAT?instance_id=123456789",
               {headers: {"access-token": "123456789"}}),
    await call("provider_query",
               "/v2/labels/chats/CHAT?instance_id=123456789&access_token=123456789"),
    await call("admin", "/__admin/health"),
  ];
  const result = document.getElementById("result");
  result.textContent = JSON.stringify(Object.fromEntries(results));
  result.dataset.done = "yes";
})();
</script>
""".replace("CHAT", CHAT)


pytest_plugins = ["tests.browser"]  # the shared headless-browser fixtures (browser, page)


class PageServer:
    """Serves ``html`` at any path on a free port of 127.0.0.1: an origin of its own."""

    def __init__(self, html: str) -> None:
        body = html.encode("utf-8")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # failures show in the test, not as request lines

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def page_server() -> Iterator[Callable[[str], PageServer]]:
    """``page_server(html)`` serves a page; every one is closed after the test."""
    servers: list[PageServer] = []

    def serve(html: str) -> PageServer:
        servers.append(PageServer(html))
        return servers[-1]

    yield serve
    for server in servers:
        server.close()


def run_page(page: Any, page_server: Any, server: MockServer) -> dict[str, Any]:
    served = page_server(PAGE)
    page.goto(f"{served.url}?mock={server.url}")
    page.wait_for_selector("#result[data-done=yes]", state="attached", timeout=60_000)
    results: dict[str, Any] = json.loads(page.text_content("#result"))
    return results


def names(result: dict[str, Any]) -> list[str]:
    assert result.get("status") == 200, result
    return [label["name"] for label in result["body"]]


@pytest.mark.parametrize("cors", [True, False], ids=["cors", "no-cors"])
def test_a_page_on_another_origin_gets_the_labels(page, page_server, start_server, cors):
    server = start_server(cors=cors)
    results = run_page(page, page_server, server)
    assert names(results["waha_get"]) == ["VIP", "Pending Payment", "Assigned to Alice"]
    assert results["waha_put"] == {"status": 200, "body": None}
    assert names(results["waha_after_put"]) == ["VIP", "New Customer"]
    if cors:
        assert names(results["provider_header"]) == ["VIP", "New Customer"]
        assert names(results["provider_query"]) == ["VIP", "New Customer"]
    else:  # the browser refuses the answers: the page sees a network error, as it would live
        assert "failed" in results["provider_header"], results["provider_header"]
        assert "failed" in results["provider_query"], results["provider_query"]
    # The control API is never readable from another origin.
    assert "failed" in results["admin"], results["admin"]
    # The browser did send preflights, and the mock answered them as configured.
    journal = app_state(server.app).control.journal
    preflights = {(e["path"], e["status"]) for e in journal.entries(method="OPTIONS")}
    assert preflights == {
        ("/api/default/labels/chats/5511988887777@c.us", 204),
        ("/v2/labels/chats/5511988887777@c.us", 204 if cors else 405),
    }
