"""Where each call of the label API lives, in each dialect the kit can check.

The provider dialect (``/v2/labels...``, credentials ``instance_id`` and ``access_token`` in
the query) and WAHA's (``/api/{session}/labels...``, the key in the ``X-Api-Key`` header, as
``src/api/labels.controller.ts`` and ``src/core/auth/auth.middleware.ts`` in WAHA serve them).
WAHA has no ``GET /api/{session}/labels/{labelId}`` (the controller declares only PUT and
DELETE on that path), so ``label_path`` is ``None`` there and the checks that need it skip.

The writes differ too, and the stateful run reads how from here: WAHA links a chat's labels
only by a full replace (``PUT .../labels/chats/{chatId}``, no per-label link), refuses the
21st label with a 422 (the provider documents 403), answers a create with 201 and a delete
with ``{"result": true}``, and may refuse an update that keeps the label's own name (its
same-name bug, ``labels.controller.ts`` l.83-90).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

__all__ = ["PROVIDER", "Dialect", "waha"]


@dataclass(frozen=True)
class Dialect:
    """The paths and the error shape of one dialect; ``session`` is WAHA's session name."""

    name: Literal["provider", "waha"] = "provider"
    session: str = ""

    @property
    def is_waha(self) -> bool:
        return self.name == "waha"

    @property
    def prefix(self) -> str:
        return f"/api/{quote(self.session, safe='')}/labels" if self.is_waha else "/v2/labels"

    @property
    def error_schema(self) -> str:
        """The schema every error body must match (``schemas/<name>.schema.json``)."""
        return "waha-error" if self.is_waha else "error"

    @property
    def status_field(self) -> str:
        """The body field that repeats the HTTP status."""
        return "statusCode" if self.is_waha else "status"

    def chat_path(self, encoded_chat: str) -> str:
        return f"{self.prefix}/chats/{encoded_chat}"

    def label_path(self, encoded_label: str) -> str | None:
        """``GET .../labels/{id}``, or None where the dialect has no such call (WAHA)."""
        return None if self.is_waha else f"{self.prefix}/{encoded_label}"

    def label_chats_path(self, encoded_label: str) -> str:
        return f"{self.prefix}/{encoded_label}/chats"

    def label_write_path(self, encoded_label: str) -> str:
        """Where a label is updated (PUT) and deleted (DELETE), in both dialects."""
        return f"{self.prefix}/{encoded_label}"

    def link_path(self, encoded_label: str, encoded_chat: str) -> str | None:
        """``PUT``/``DELETE`` one label on one chat; None where only a replace exists (WAHA)."""
        return None if self.is_waha else f"{self.prefix}/{encoded_label}/chats/{encoded_chat}"

    @property
    def created_statuses(self) -> frozenset[int]:
        """A create's success: WAHA's 201 (NestJS's default for POST); the provider's 200/201."""
        return frozenset({201} if self.is_waha else {200, 201})

    @property
    def full_status(self) -> int:
        """The answer to a 21st label: WAHA's 422 ``Maximum 20 labels allowed``, the
        provider's 403 ``quota_reached``."""
        return 422 if self.is_waha else 403

    @property
    def deleted_body(self) -> dict[str, bool] | None:
        """The body of a delete, where the dialect fixes one (WAHA's l.112)."""
        return {"result": True} if self.is_waha else None

    @property
    def may_refuse_own_name(self) -> bool:
        """WAHA's update counts the label itself among the taken names (a 422 with its own
        id); a WAHA that fixed it would accept. The provider documents no such refusal."""
        return self.is_waha

    def is_label_lookup(self, path: str) -> bool:
        """Whether ``path`` looks a label up by a well-formed id (``/labels/{id}``, its chats)."""
        rest = path.removeprefix(self.prefix + "/")
        if rest == path or rest.startswith("chats/"):
            return False
        label, _, tail = rest.partition("/")
        return label.isdigit() and tail in {"", "chats"}


PROVIDER = Dialect()


def waha(session: str) -> Dialect:
    return Dialect("waha", session)
