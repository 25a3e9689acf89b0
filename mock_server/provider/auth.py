"""Who is calling: the provider's instance_id + access_token, checked in constant time.

Unknown instance and wrong token get the same answer, and the token is compared against a
dummy when the instance is unknown, so neither the body nor the timing tells which it was.
"""

from __future__ import annotations

import hmac

from flask import request

from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.state.store import InstanceAccess, Store

__all__ = ["given_token", "provider_credentials", "secrets_match", "single_query_param"]

_NO_SECRET = "\x00chatlabels-no-such-instance\x00"


def secrets_match(given: str, expected: str) -> bool:
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def single_query_param(name: str) -> str | None:
    """A query parameter that may appear at most once; repeating it is a 400, not a guess."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(
            400,
            "invalid_parameter",
            f"Query parameter '{name}' was given {len(values)} times; give it once.",
        )
    return values[0] if values else None


def given_token() -> str | None:
    """The provider token as read: the ``access_token`` query parameter, else the header."""
    query_token = single_query_param("access_token")
    return query_token if query_token is not None else request.headers.get("access-token")


def provider_credentials(store: Store) -> InstanceAccess:
    """Authenticate a provider-dialect request and require its instance to be WORKING."""
    token = given_token()
    query_token = request.args.get("access_token")
    header_token = request.headers.get("access-token")
    if not token:
        raise ApiError(
            401,
            "unauthorized",
            "Missing access token: pass access_token in the query string or the "
            "access-token header.",
        )
    if (
        query_token is not None
        and header_token is not None
        and not secrets_match(query_token, header_token)
    ):
        raise ApiError(
            400,
            "invalid_parameter",
            "The access_token query parameter and the access-token header differ; send one.",
        )
    instance_id = single_query_param("instance_id")
    if not instance_id:
        raise ApiError(400, "invalid_parameter", "Missing instance_id query parameter.")
    credentials = store.credentials(instance_id=instance_id)
    expected = credentials.token if credentials else _NO_SECRET
    if not secrets_match(token, expected) or credentials is None:
        raise ApiError(401, "unauthorized", "Invalid or missing access token for this instance_id.")
    credentials.require_working()
    return credentials
