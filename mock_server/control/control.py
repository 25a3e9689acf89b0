"""Everything the control API governs, reset, loaded and dumped together.

WireMock users expect ``reset`` to clear what was observed and return the configuration to
what was loaded, so ``reset`` here restores the loaded fixture's labels, fault rules and rate
limits and clears the request journal and the webhook delivery log. Loading a fixture
replaces state, rules and limits and makes it the one ``reset`` returns to; it keeps the
journal and the delivery log, which record what happened, not what is configured.

Each of these also refreshes ``redactor``, the ``ValueRedactor`` of the loaded instances'
secrets (and the admin token) that every text leaving the mock goes through.
"""

from __future__ import annotations

import threading
from typing import Any

from chatlabels.contract.fixture_secrets import redactable_secrets, restore_secrets
from chatlabels.contract.fixtures import FixtureError, parse_fixture
from chatlabels.contract.problems import DEFAULT_BOUNDS, ReportBounds
from chatlabels.contract.value_redaction import ValueRedactor
from chatlabels.mock.control.faults import FaultRules
from chatlabels.mock.control.journal import RequestJournal
from chatlabels.mock.control.rate_limit import RateLimits, fixture_rate_limits
from chatlabels.mock.http.errors import InvalidDocument
from chatlabels.mock.state.store import Store
from chatlabels.mock.webhooks.dispatcher import WebhookDispatcher

__all__ = ["Control"]


class Control:
    """The store, the journal, the fault rules, the rate limits and the webhooks of one app."""

    def __init__(
        self,
        store: Store,
        *,
        journal: RequestJournal,
        faults: FaultRules,
        rate_limits: RateLimits,
        webhooks: WebhookDispatcher,
        admin_token: str | None = None,
        report_bounds: ReportBounds = DEFAULT_BOUNDS,
    ) -> None:
        self.store = store
        #: How much of a 422's problem list is shown (``--max-problems``...).
        self.report_bounds = report_bounds
        self.journal = journal
        self.faults = faults
        self.rate_limits = rate_limits
        self.webhooks = webhooks
        # One control operation at a time, so a reset racing a load cannot mix two fixtures.
        self._lock = threading.Lock()
        self._admin_secrets = {admin_token} if admin_token else set()
        self.redactor = self._redactor(store.dump())

    def _redactor(self, fixture: dict[str, Any]) -> ValueRedactor:
        return ValueRedactor(redactable_secrets(fixture) | self._admin_secrets)

    def reset(self) -> None:
        with self._lock:
            self.store.reset()
            self.faults.reset()
            self.rate_limits.reset()
            self.journal.clear()
            self.webhooks.clear()
            self.redactor = self._redactor(self.store.dump())

    def load(self, document: Any) -> dict[str, Any]:
        """Validate like at start-up, then replace; nothing changes when it is invalid.

        A ``[redacted]`` secret (from ``GET /__admin/fixture``) keeps the current one.
        """
        try:
            document = restore_secrets(document, self.store.dump())
            fixture = parse_fixture(document, source="request body", bounds=self.report_bounds)
        except FixtureError as exc:
            problems = [(problem.pointer, problem.reason) for problem in exc.problems]
            raise InvalidDocument(
                "invalid_fixture",
                "The fixture was not loaded",
                problems,
                exc.more,
                bounds=self.report_bounds,
            ) from None
        self.replace(fixture)
        return fixture

    def replace(self, fixture: dict[str, Any]) -> None:
        """Serve ``fixture``, already valid (``parse_fixture``), from now on: the part of
        ``load`` after validation, for callers that validated it themselves."""
        unsupported = self.faults.unsupported(fixture.get("faults", []), at="/faults")
        if unsupported:
            raise InvalidDocument("invalid_fixture", "The fixture was not loaded", unsupported)
        with self._lock:
            # First: an answer decided under the new state must know its secrets.
            self.redactor = self._redactor(fixture)
            self.store.load(fixture)
            self.faults.load(fixture.get("faults", []))
            self.rate_limits.load(fixture_rate_limits(fixture))

    def dump(self) -> dict[str, Any]:
        """The current state as a fixture that ``load`` (and ``chatlabels serve``) accepts."""
        dumped = self.store.dump()
        for instance in dumped["instances"]:
            limit = self.rate_limits.get(instance["id"])
            if limit is None:
                instance.pop("rate_limit", None)
            else:
                instance["rate_limit"] = limit
        dumped.pop("faults", None)
        rules = self.faults.rules()
        if rules:
            dumped["faults"] = rules
        return dumped
