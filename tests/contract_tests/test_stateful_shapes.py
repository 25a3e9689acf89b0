"""The stateful run against label-shaped mistakes: a directory whose label lacks ``name`` is
a finding under ``stateful_schema_conformance`` (it used to end in ``KeyError: 'name'``),
restoring never crashes on one, and a body with a byte-order mark is named as such (it used
to be "cannot read the starting state")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify

from chatlabels.cli import main
from chatlabels.kit.dialect import PROVIDER
from chatlabels.kit.findings import RequestInfo
from chatlabels.kit.stateful.session import Snapshot, restore
from chatlabels.kit.target import Exchange
from tests.contract_tests.broken_targets import INSTANCE_ID, TOKEN, serving

CHAT = "5511999990000@c.us"


def exchange(body: Any, status: int = 200) -> Exchange:
    return Exchange(RequestInfo("GET", "/v2/labels"), status, "application/json", "", body)


class FakeApi:
    """Answers restore()'s calls from canned bodies and records the writes."""

    dialect = PROVIDER
    can_link = True

    def __init__(self, directory: Any, chat: Any) -> None:
        self._directory, self._chat = directory, chat
        self.writes: list[tuple[str, ...]] = []

    def directory(self) -> Exchange:
        return exchange(self._directory)

    def chat_labels(self, chat: str) -> Exchange:
        return exchange(self._chat)

    def delete(self, label_id: str) -> Exchange:
        self.writes.append(("delete", label_id))
        return exchange({"success": True})

    def update(self, label_id: str, name: str, color: int) -> Exchange:
        self.writes.append(("update", label_id, name, str(color)))
        return exchange({})

    def link(self, label_id: str, chat: str) -> Exchange:
        self.writes.append(("link", label_id, chat))
        return exchange({})

    def unlink(self, label_id: str, chat: str) -> Exchange:
        self.writes.append(("unlink", label_id, chat))
        return exchange({})


def test_restore_names_labels_it_cannot_restore_instead_of_crashing() -> None:
    nameless = {"id": "1", "color": 0, "colorHex": "#ff9485"}
    snapshot = Snapshot(labels=[nameless], members={}, chats={CHAT: ["1"]})
    api = FakeApi(directory=[{"id": "1", "name": "Renamed", "color": 0}, "junk"], chat=[{}])
    problems = restore(api, snapshot)  # type: ignore[arg-type]
    assert any("no name and color to restore" in problem for problem in problems)
    assert ("link", "1", CHAT) in api.writes


def stub(directory_body: bytes) -> Flask:
    """A provider target answering GET /v2/labels with ``directory_body``, nothing else."""
    app = Flask("stateful-shapes")

    @app.get("/v2/labels")
    def labels() -> Response:
        return Response(directory_body, 200, mimetype="application/json")

    @app.get("/v2/labels/<label_id>/chats")
    def chats(label_id: str) -> Response:
        return jsonify([{"id": CHAT}])

    return app


def stateful(url: str, tmp_path: Path) -> tuple[int, Any]:
    report = tmp_path / "r.json"
    code = main(
        ["check", "--stateful", "--allow-writes", "--base-url", url, "--instance-id",
         INSTANCE_ID, "--access-token", TOKEN, "--chat-id", CHAT, "--max-examples", "1",
         "--steps", "2", "--seed", "1", "--report-json", str(report)]
    )  # fmt: skip
    return code, json.loads(report.read_text())


def test_a_label_without_name_is_a_schema_finding(tmp_path: Path) -> None:
    body = json.dumps([{"id": "1", "color": 0, "colorHex": "#ff9485"}]).encode()
    with serving(stub(body)) as url:
        code, report = stateful(url, tmp_path)
    assert code == 1
    [finding] = report["findings"]
    assert (finding["check"], finding["pointer"]) == ("stateful_schema_conformance", "/0")
    assert report["checks"]["stateful_model_agreement"] == "skipped"


def test_a_byte_order_mark_is_named_not_unreadable(tmp_path: Path) -> None:
    body = b"\xef\xbb\xbf" + json.dumps([{"id": "1", "color": 0}]).encode()
    with serving(stub(body)) as url:
        code, report = stateful(url, tmp_path)
    assert code == 1
    reasons = [f["found"] for f in report["findings"]]
    assert any("byte-order mark" in reason for reason in reasons), reasons
