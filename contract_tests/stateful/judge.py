"""How the stateful run judges one answer against what the model predicts.

The state machine (``stateful_machine.py``) says which call to make and what the model
expects; these functions say whether the target's answer agrees: the status, the body
(pointing at the first differing item), its schema and error envelope, and the mock's
webhook log. Kept apart so the rules read as calls and every verdict is made in one place.
Each function returns quietly on agreement and raises ``Disagreement`` carrying the kit's
``Finding`` otherwise, which Hypothesis treats as a failure to shrink.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, NoReturn

from chatlabels.contract.schemas import iter_errors, json_pointer
from chatlabels.kit.dialect import PROVIDER, Dialect, waha
from chatlabels.kit.findings import Finding
from chatlabels.kit.judge import BodyChecks, error_body_findings, label_list_findings, shown
from chatlabels.kit.stateful.model import EventGroup
from chatlabels.kit.stateful.session import LabelsApi
from chatlabels.kit.target import Exchange

__all__ = [
    "AGREE",
    "SCHEMA",
    "WEBHOOKS",
    "Disagreement",
    "check_webhooks",
    "describe_answer",
    "expect_labels",
    "expect_same",
    "expect_schema",
    "expect_status",
    "fail",
    "label_body",
]

AGREE, SCHEMA, WEBHOOKS = (
    "stateful_model_agreement",
    "stateful_schema_conformance",
    "stateful_webhook_agreement",
)
_BODY_CHECKS = BodyChecks(conforms=SCHEMA, palette=SCHEMA, unique=SCHEMA)
#: Deliveries to a local receiver finish in milliseconds; a missing one costs this much.
_WEBHOOK_WAIT_SECONDS = "2"


class Disagreement(AssertionError):
    """The target disagreed with the model; ``finding`` says where and how."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.describe())
        self.finding = finding


def describe_answer(exchange: Exchange) -> str:
    """The answer in one short line: status and (the start of) the body, or the error."""
    if exchange.status is None:
        return exchange.error or "no answer"
    body = shown(exchange.json) if exchange.is_json else repr(exchange.text[:60])
    return f"{exchange.status} {body}"


def fail(check: str, answer: Exchange | None, at: str, expected: str, found: str) -> NoReturn:
    """Raise the disagreement ``check`` found at pointer ``at`` of ``answer``."""
    request = answer.request if answer is not None else None
    raise Disagreement(Finding(check, request, at, expected, found))


def expect_status(answer: Exchange, allowed: set[int], why: str) -> None:
    """The status is one of ``allowed``; an error answer of the API has the error envelope."""
    if answer.status not in allowed:
        shown_allowed = "/".join(map(str, sorted(allowed))) if len(allowed) < 5 else "4xx/2xx"
        fail(AGREE, answer, "", f"{shown_allowed} ({why})", describe_answer(answer))
    if answer.status >= 400 and (dialect := _answering(answer.request.path)) is not None:
        for finding in error_body_findings(
            answer.json,
            check=SCHEMA,
            request=answer.request,
            schema=dialect.error_schema,
            status_field=dialect.status_field,
        ):
            raise Disagreement(finding)


def _answering(path: str) -> Dialect | None:
    """The dialect whose error envelope an answer on ``path`` must have (None: the mock's
    control API, judged by the calls that use it)."""
    if path.startswith(PROVIDER.prefix + "/") or path == PROVIDER.prefix:
        return PROVIDER
    return waha("") if path.startswith("/api/") else None


def expect_same(answer: Exchange, at: str, expected: Any, found: Any, check: str = AGREE) -> None:
    """``found`` equals ``expected``; for two lists the first differing item is named."""
    if expected == found:
        return
    if isinstance(expected, list) and isinstance(found, list):
        for index, (want, got) in enumerate(zip(expected, found, strict=False)):
            if want != got:
                fail(check, answer, f"{at}/{index}", shown(want), shown(got))
    fail(check, answer, at, shown(expected), shown(found))


def expect_schema(answer: Exchange, schema: str) -> None:
    """The body is a schema-valid list of labels (``schema`` names which list)."""
    for finding in label_list_findings(
        answer.json, request=answer.request, checks=_BODY_CHECKS, schema=schema
    ):
        if finding.severity == "error":
            raise Disagreement(finding)


def expect_labels(answer: Exchange, expected: list[Any], schema: str = "chat-labels") -> None:
    """A read of labels: 200, schema-valid, and exactly the model's list, order included."""
    expect_status(answer, {200}, "a list of labels")
    expect_schema(answer, schema)
    expect_same(answer, "", expected, answer.json)


def label_body(answer: Exchange) -> dict[str, Any]:
    """The body as one schema-valid label (pointers relative to the label itself)."""
    for finding in label_list_findings(
        [answer.json], request=answer.request, checks=_BODY_CHECKS, schema="labels"
    ):
        if finding.severity == "error":
            raise Disagreement(replace(finding, pointer=finding.pointer[2:]))
    body: dict[str, Any] = answer.json
    return body


def check_webhooks(
    api: LabelsApi, instance_id: str, webhooks: list[dict[str, Any]], expected: list[EventGroup]
) -> None:
    """The mock's webhook log holds, per URL, the model's events in order and no more.

    Events of one group (one call) may arrive in any order among themselves; the log is
    waited for until the expected number of deliveries has finished.
    """
    by_url = {hook["url"]: hook for hook in reversed(webhooks)}
    wanted = {url: _filtered(expected, hook) for url, hook in by_url.items()}
    total = sum(len(event) for groups in wanted.values() for event in groups)
    params = {"instance": instance_id}
    if total:
        params |= {"wait": str(total), "timeout": _WEBHOOK_WAIT_SECONDS}
    answer = api.admin("GET", "webhooks", params)
    log = answer.json if isinstance(answer.json, dict) else {}
    if log.get("waited", {}).get("satisfied") is False:
        fail(WEBHOOKS, answer, "/waited", f"{total} finished deliveries", shown(log))
    for url, groups in wanted.items():
        got = [d for d in log.get("deliveries", []) if d.get("url") == url]
        at = 0
        for group in groups:
            chunk = got[at : at + len(group)]
            found = sorted(_event_key(d["event"], d["envelope"]["payload"]) for d in chunk)
            want = sorted(_event_key(name, payload) for name, payload in group)
            expect_same(answer, f"/deliveries ({url}) #{at}", want, found, WEBHOOKS)
            at += len(group)
        if len(got) > at:
            extra = [d["event"] for d in got[at:]]
            fail(WEBHOOKS, answer, f"/deliveries ({url}) #{at}", "no more", shown(extra))
        for delivery in got:
            for error in iter_errors("webhook-event", delivery["envelope"]):
                where = json_pointer(error.path)
                fail(SCHEMA, answer, where, "a valid webhook event", error.message)


def _filtered(groups: list[EventGroup], hook: dict[str, Any]) -> list[EventGroup]:
    events = hook.get("events", ["*"])
    kept = [[e for e in group if "*" in events or e[0] in events] for group in groups]
    return [group for group in kept if group]


def _event_key(name: str, payload: Any) -> str:
    return f"{name} {json.dumps(payload, sort_keys=True, ensure_ascii=False)}"
