"""The one marker that stands for a secret wherever the mock or the kit shows a request, and
the names of the parameters and headers that carry one."""

__all__ = ["REDACTED", "is_secret"]

REDACTED = "[redacted]"

_SECRET_NAMES = {
    "access_token",
    "access-token",
    "accesstoken",
    "x-api-key",
    "api_key",
    "apikey",
    "token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-admin-token",
    "x-webhook-hmac",
}


def is_secret(name: str) -> bool:
    """True for parameter and header names that carry credentials (any case)."""
    return name.lower() in _SECRET_NAMES
