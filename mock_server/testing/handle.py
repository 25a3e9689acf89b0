"""``ChatLabelsMock``: what a test holds to drive a running mock without going through HTTP.

The pytest fixture hands one to each test; it works on any started ``MockServer`` too. State
changes go through the same ``Store`` methods the API uses, so they fire the same webhooks;
fault rules, the journal and the webhook log are the app's own objects (control API).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, canonical_chat_id
from chatlabels.contract.fixtures import DEFAULT_FIXTURE, load_fixture, parse_fixture
from chatlabels.mock.app import app_state
from chatlabels.mock.control.control import Control
from chatlabels.mock.serving.server import MockServer
from chatlabels.mock.webhooks.dispatcher import WebhookDispatcher

__all__ = ["ChatLabelsMock", "FixtureSource"]

#: A fixture file path or an already-parsed fixture document.
FixtureSource = str | Path | dict[str, Any]


class ChatLabelsMock:
    """A running mock plus the credentials of its first instance and helpers for tests."""

    def __init__(self, server: MockServer, *, base_dir: Path | None = None) -> None:
        self.server = server
        self.base_url = server.url
        self._base_dir = base_dir or Path.cwd()
        self._fixture: dict[str, Any] = server.store.dump()  # until load() names another

    # -- credentials of the first instance of the loaded fixture ------------------------
    @property
    def instance_id(self) -> str:
        return str(self._first["id"])

    @property
    def access_token(self) -> str:
        return str(self._first["token"])

    @property
    def session(self) -> str:
        return str(self._first["session"])

    @property
    def api_key(self) -> str:
        return str(self._first.get("api_key", self._first["token"]))

    @property
    def auth(self) -> dict[str, str]:
        """The provider's query parameters: ``requests.get(url, params=mock.auth)``."""
        return {"instance_id": self.instance_id, "access_token": self.access_token}

    @property
    def _first(self) -> dict[str, Any]:
        first: dict[str, Any] = self._fixture["instances"][0]
        return first

    # -- whole state ----------------------------------------------------------------------
    def load(self, fixture: FixtureSource | None = None) -> None:
        """Serve ``fixture`` (path, dict, or None for the bundled default) from now on.

        Like the control API's load, fault rules and rate limits come from the fixture;
        unlike it, the request journal and the webhook log are cleared too, so a test only
        sees its own traffic. Raises FixtureError (file, JSON pointer) on an invalid fixture.
        """
        if fixture is None:
            parsed = copy.deepcopy(_default_fixture())
        elif isinstance(fixture, dict):
            parsed = parse_fixture(copy.deepcopy(fixture), source="<inline fixture>")
        else:
            path = Path(fixture)
            parsed = load_fixture(path if path.is_absolute() else self._base_dir / path)
        self._control.replace(parsed)  # validated once, here
        self._fixture = parsed
        self._control.journal.clear()
        self._control.webhooks.clear()

    def reset(self) -> None:
        """Back to the fixture last loaded (labels, faults, rate limits); logs cleared."""
        self._control.reset()

    def state(self) -> dict[str, Any]:
        """The current state as a fixture document (``load`` accepts it as is)."""
        return self._control.dump()

    # -- labels ---------------------------------------------------------------------------
    def labels(self, *, instance_id: str | None = None) -> list[dict[str, Any]]:
        return self.server.store.labels(instance_id or self.instance_id)

    def chat_labels(self, chat_id: str, *, instance_id: str | None = None) -> list[dict[str, Any]]:
        return self.server.store.chat_labels(instance_id or self.instance_id, _chat(chat_id))

    def link(self, label_id: str, chat_id: str, *, instance_id: str | None = None) -> bool:
        """Attach a label to a chat (fires ``label.chat.added`` if it changed anything)."""
        return self.server.store.link(instance_id or self.instance_id, label_id, _chat(chat_id))

    def unlink(self, label_id: str, chat_id: str, *, instance_id: str | None = None) -> bool:
        """Detach a label from a chat (fires ``label.chat.deleted`` if it was attached)."""
        return self.server.store.unlink(instance_id or self.instance_id, label_id, _chat(chat_id))

    def set_labels(
        self, chat_id: str, label_ids: list[str], *, instance_id: str | None = None
    ) -> None:
        """Give a chat exactly these labels, in this order (``[]`` clears it)."""
        self.server.store.replace_chat_labels(
            instance_id or self.instance_id, _chat(chat_id), label_ids
        )

    # -- faults, journal, webhooks (the objects behind the control API) -----------------
    def add_fault(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Add one fault rule (``fault-rule.schema.json``), as a dict or keywords.

        ``mock.add_fault(status=403, error="quota_reached", times=1)``; returns the rule
        with its id. An invalid rule raises InvalidDocument listing each problem.
        """
        return self._control.faults.add([{**(rule or {}), **fields}])[0]

    def faults(self) -> list[dict[str, Any]]:
        """The active fault rules, ``times`` showing how many applications remain."""
        return self._control.faults.rules()

    def journal(
        self,
        *,
        path: str | None = None,
        instance: str | None = None,
        method: str | None = None,
    ) -> list[dict[str, Any]]:
        """Requests received in this test, oldest first, secrets redacted.

        ``path`` is a glob (``/v2/labels/chats/*``); ``instance`` an instance id or session.
        """
        return self._control.journal.entries(path=path, instance=instance, method=method)

    def deliveries(
        self, *, event: str | None = None, instance_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Webhook deliveries so far in this test (any outcome, in flight included)."""
        return self._webhooks.deliveries(event=event, instance_id=instance_id)

    def wait_for_deliveries(
        self,
        count: int = 1,
        *,
        event: str | None = None,
        instance_id: str | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Block until ``count`` matching deliveries finished; TimeoutError says what came."""
        return self._webhooks.wait_for(
            count=count, event=event, instance_id=instance_id, timeout=timeout
        )

    @property
    def _control(self) -> Control:
        return app_state(self.server.app).control

    @property
    def _webhooks(self) -> WebhookDispatcher:
        return self._control.webhooks


def _chat(chat_id: str) -> str:
    canonical = canonical_chat_id(chat_id)
    if canonical is None:
        raise ValueError(f"{chat_id!r} is not a chat id; accepted: {', '.join(ACCEPTED_FORMS)}")
    return canonical


@cache
def _default_fixture() -> dict[str, Any]:
    """The bundled default fixture, read and validated once per process (most tests start
    from it; each gets its own copy)."""
    return load_fixture(DEFAULT_FIXTURE)
