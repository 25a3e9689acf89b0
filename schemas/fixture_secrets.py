"""The secrets a fixture holds: found, redacted for a dump, restored when a dump comes back.

A fixture carries each instance's ``token`` and ``api_key``, each webhook's HMAC key and any
credential-bearing custom header (``Authorization``...). ``GET /__admin/fixture`` shows them
as ``[redacted]``; loading such a dump back keeps the current secret of the same instance (and
the same webhook), so a dump/load round trip needs no secret at all. A ``[redacted]`` left
where no current secret stands behind it is a problem the loader reports.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from chatlabels.contract.redaction import REDACTED, is_secret

__all__ = [
    "redact_secrets",
    "redactable_secrets",
    "restore_secrets",
    "secret_slots",
    "secret_values",
]

Slot = tuple[dict[str, Any], str, str]


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """The dict items of a list, with their index (anything else yields nothing)."""
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, dict))


def _instance_slots(instance: dict[str, Any], at: str) -> Iterator[Slot]:
    for key in ("token", "api_key"):
        if isinstance(instance.get(key), str):
            yield instance, key, f"{at}/{key}"
    for j, webhook in _dicts(instance.get("webhooks")):
        hmac = webhook.get("hmac")
        if isinstance(hmac, dict) and isinstance(hmac.get("key"), str):
            yield hmac, "key", f"{at}/webhooks/{j}/hmac/key"
        for k, header in _dicts(webhook.get("customHeaders")):
            name, value = header.get("name"), header.get("value")
            if isinstance(name, str) and is_secret(name) and isinstance(value, str):
                yield header, "value", f"{at}/webhooks/{j}/customHeaders/{k}/value"


def secret_slots(document: Any) -> Iterator[Slot]:
    """``(container, key, json_pointer)`` of every secret in a (possibly invalid) fixture."""
    instances = document.get("instances") if isinstance(document, dict) else None
    for i, instance in _dicts(instances):
        yield from _instance_slots(instance, f"/instances/{i}")


def secret_values(document: Any) -> set[str]:
    """Every secret value of a fixture (the redaction marker itself excluded)."""
    return {c[k] for c, k, _ in secret_slots(document) if c[k] and c[k] != REDACTED}


def redactable_secrets(document: Any) -> set[str]:
    """The secrets to redact by value wherever they show (``ValueRedactor``).

    A secret equal to its own instance's public id (instance id or WAHA session) is left
    out: it is public by construction. The bundled default fixture uses the provider docs'
    placeholders, ``instance_id=123456789&access_token=123456789``, and the instance id is
    in every path, query and journal entry of that instance; it stays redacted by name.
    """
    instances = document.get("instances") if isinstance(document, dict) else None
    found: set[str] = set()
    for _, instance in _dicts(instances):
        public = {instance.get("id"), instance.get("session")}
        found |= {c[k] for c, k, _ in _instance_slots(instance, "")} - public
    return {value for value in found if value and value != REDACTED}


def redact_secrets(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``document`` with every secret replaced by ``[redacted]``."""
    redacted = copy.deepcopy(document)
    for container, key, _ in secret_slots(redacted):
        container[key] = REDACTED
    return redacted


def restore_secrets(document: Any, current: dict[str, Any]) -> Any:
    """A copy of ``document`` whose ``[redacted]`` secrets are the ones ``current`` holds.

    Secrets are matched by instance ``id`` and by their place within the instance; a
    webhook's secrets come back only when its ``url`` is the same. Unmatched markers stay.
    """
    restored = copy.deepcopy(document)
    instances = restored.get("instances") if isinstance(restored, dict) else None
    old_by_id = {i.get("id"): i for _, i in _dicts(current.get("instances"))}
    for _, instance in _dicts(instances):
        old = old_by_id.get(instance.get("id"))
        if old is None:
            continue
        olds = {pointer: c[k] for c, k, pointer in _instance_slots(old, "")}
        old_urls = [w.get("url") for _, w in _dicts(old.get("webhooks"))]
        for container, key, pointer in _instance_slots(instance, ""):
            if container[key] != REDACTED or pointer not in olds:
                continue
            if pointer.startswith("/webhooks/"):
                j = int(pointer.split("/")[2])
                if instance["webhooks"][j].get("url") != old_urls[j]:
                    continue
            container[key] = olds[pointer]
    return restored
