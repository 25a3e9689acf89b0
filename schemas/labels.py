"""A label as the API answers it, and the limits the contract puts on labels."""

from __future__ import annotations

from typing import Any

from chatlabels.contract.schemas import color_hex

__all__ = ["MAX_LABELS", "MAX_NAME_LENGTH", "label_json"]

#: WhatsApp's limit on labels per account (contract section 2).
MAX_LABELS = 20

#: Longest label name the mock accepts.
MAX_NAME_LENGTH = 100


def label_json(label_id: str, name: str, color: int) -> dict[str, Any]:
    """A label as the API answers it: keys in the provider's order, ``colorHex`` derived."""
    return {"id": label_id, "name": name, "color": color, "colorHex": color_hex(color)}
