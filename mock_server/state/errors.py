"""What the emulated account refuses, in its own words: no status codes, no bodies.

The store and the domain rules raise these; each dialect decides in one place what a client
sees (``provider/errors.py``, ``waha/errors.py``), so the same refusal can be a 404 with the
provider's envelope and a 422 with WAHA's. Each error carries the facts a dialect needs to
word its answer, never a sentence meant for a client.

To add one: subclass ``DomainError``, add it to ``AnyDomainError``; mypy then points at each
dialect's mapping until it answers the new error too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AnyDomainError",
    "DomainError",
    "DuplicateLabelName",
    "LabelLimitReached",
    "SessionNotReady",
    "UnknownInstance",
    "UnknownLabel",
    "UnknownLabels",
]


class DomainError(Exception):
    """Base of every refusal of the emulated account.

    Subclasses are plain dataclasses (not frozen: Python itself sets ``__traceback__`` on
    a raised exception, and ``eq=False`` keeps them hashable like any exception).
    """

    def __str__(self) -> str:
        return repr(self)


@dataclass(eq=False)
class UnknownInstance(DomainError):
    """The instance a request authenticated for is gone (a fixture without it was loaded)."""

    instance_id: str


@dataclass(eq=False)
class UnknownLabel(DomainError):
    """A label id the instance does not have."""

    instance_id: str
    label_id: str


@dataclass(eq=False)
class UnknownLabels(UnknownLabel):
    """A whole-set change named labels the instance does not have; nothing was changed.

    ``label_id`` is the first of ``label_ids``, every unknown id in the order given.
    """

    label_ids: tuple[str, ...] = ()


@dataclass(eq=False)
class LabelLimitReached(DomainError):
    """Creating one more label would pass WhatsApp's per-account limit."""

    instance_id: str
    limit: int


@dataclass(eq=False)
class DuplicateLabelName(DomainError):
    """Another label of the instance (or, under WAHA's update, the label itself) already
    has the name; ``existing_id`` is the first such label, as WAHA's ``lodash.find`` picks."""

    instance_id: str
    name: str
    existing_id: str


@dataclass(eq=False)
class SessionNotReady(DomainError):
    """The instance exists but its session is not ``WORKING``, so it cannot act."""

    instance_id: str
    session: str
    status: str


#: Every concrete domain error; the dialects' mappings match on it exhaustively.
AnyDomainError = (
    UnknownInstance
    | UnknownLabels
    | UnknownLabel
    | LabelLimitReached
    | DuplicateLabelName
    | SessionNotReady
)
