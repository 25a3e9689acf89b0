"""The one marker that stands for a secret wherever the mock or the kit shows a request."""

__all__ = ["REDACTED"]

REDACTED = "[redacted]"
