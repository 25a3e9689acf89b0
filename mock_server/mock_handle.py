"""``ChatLabelsMock``: what a test holds to drive a running mock without going through HTTP.

The pytest fixture hands one to each test; it works on any started ``MockServer`` too. State
changes go through the same ``Store`` methods the API uses, so they fire the same webhooks;
fault rules, the journal and the webhook log are the app's own objects (control API).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from contract_tests.chat_ids import ACCEPTED_FORMS, canonical_chat_id

from .fixtures import DEFAULT_FIXTURE, load_fixture, parse_fixture
from .server import MockServer

__all__ = ["ChatLabelsMock", "FixtureSource"]

#: A fixture file path or an already-parsed fixture document.
FixtureSource = str | Path | dict[str, Any]


class ChatLabelsMock:
    """A running mock plus the credentials of its first instance and helpers for tests."""

    def __init__(self, server: MockServer, *, base_dir: Path | None = None) -> None:
        self.server = server
        self.base_url = server.url
        self._base_dir = base_dir or Path.cwd()
        self._fixture: dict[str, Any] = {}

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
        return self._fixture["instances"][0]

    # -- whole state ----------------------------------------------------------------------
    def load(self, fixture: FixtureSource | None = None) -> None:
        """Serve ``fixture`` (path, dict, or None for the bundled default) from now on.

        Also clears the request journal, the webhook log and the fault rules; fault rules
        listed in the fixture become active. Raises FixtureError on an invalid fixture.
        """
        if fixture is None:
            parsed = load_fixture(DEFAULT_FIXTURE)
        elif isinstance(fixture, dict):
            parsed = parse_fixture(copy.deepcopy(fixture), source="<inline fixture>")
        else:
            path = Path(fixture)
            parsed = load_fixture(path if path.is_absolute() else self._base_dir / path)
        self.server.store.load(parsed)
        self._fixture = parsed
        self._clear_logs()

    def reset(self) -> None:
        """Back to the fixture last loaded; journal, webhook log and faults cleared."""
        self.server.store.reset()
        self._clear_logs()

    def state(self) -> dict[str, Any]:
        """The current state as a fixture document (``load`` accepts it as is)."""
        return self.server.store.dump()

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

    # -- faults, journal, webhooks (the app's control-API objects) ------------------------
    def _extension(self, name: str) -> Any:
        try:
            return self.server.app.extensions[f"chatlabels.{name}"]
        except KeyError:
            raise RuntimeError(f"this mock has no {name} support") from None

    def _clear_logs(self) -> None:
        for name in ("journal", "webhooks", "faults"):
            extension = self.server.app.extensions.get(f"chatlabels.{name}")
            if extension is not None:
                extension.clear()


def _chat(chat_id: str) -> str:
    canonical = canonical_chat_id(chat_id)
    if canonical is None:
        raise ValueError(f"{chat_id!r} is not a chat id; accepted: {', '.join(ACCEPTED_FORMS)}")
    return canonical
