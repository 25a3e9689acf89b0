"""chatlabels contract-test kit: schemas, chat-id grammar, checks and strategies that judge
any target (the mock or the live API) against the documented contract."""

from .chat_ids import ACCEPTED_FORMS, canonical_chat_id, is_chat_id
from .schemas import PALETTE, color_hex, iter_errors, load_schema, validator

__all__ = [
    "ACCEPTED_FORMS",
    "PALETTE",
    "canonical_chat_id",
    "color_hex",
    "is_chat_id",
    "iter_errors",
    "load_schema",
    "validator",
]
