"""The contract core: the JSON Schemas beside this file and the Python that reads them.

Imports neither Flask nor the mock nor the kit; both of those import it. It holds the
palette, the chat-id grammar, schema loading and validation with JSON pointers, strict JSON
parsing, fixture and fault-rule validation and the constants both sides share.
"""

from chatlabels.contract.chat_ids import ACCEPTED_FORMS, canonical_chat_id, is_chat_id
from chatlabels.contract.schemas import PALETTE, color_hex, iter_errors, load_schema, validator

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
