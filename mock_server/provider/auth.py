"""Who is calling the provider dialect, judged in the provider's order.

The request was parsed once (``ParsedRequest``: token, instance, the secret already compared
in constant time against the instance's, or a dummy when it is unknown); this only raises,
in README's order: token present, ``instance_id`` present, instance known and token right
(one answer for both, so neither body nor timing tells which failed), instance WORKING.
"""

from __future__ import annotations

from chatlabels.mock.http.errors import ApiError
from chatlabels.mock.http.parsed_request import ParsedRequest, Repeated, Single
from chatlabels.mock.state.store import InstanceAccess

__all__ = ["invalid_token", "provider_instance", "repeated_parameter", "single_value"]


def repeated_parameter(repeated: Repeated) -> ApiError:
    """A query parameter that may appear at most once came more often: a 400, not a guess."""
    return ApiError(
        400,
        "invalid_parameter",
        f"Query parameter '{repeated.name}' was given {repeated.count} times; give it once.",
    )


def single_value(value: Single) -> str | None:
    """The value of a parameter that may appear once; ``repeated_parameter`` otherwise."""
    if isinstance(value, Repeated):
        raise repeated_parameter(value)
    return value


def provider_instance(parsed: ParsedRequest) -> InstanceAccess:
    """The instance an authenticated provider-dialect request acts on; it is WORKING."""
    caller = parsed.caller
    if not single_value(caller.secret):
        raise ApiError(
            401,
            "unauthorized",
            "Missing access token: pass access_token in the query string or the "
            "access-token header.",
        )
    if caller.conflicting:
        raise ApiError(
            400,
            "invalid_parameter",
            "The access_token query parameter and the access-token header differ; send one.",
        )
    if not single_value(parsed.instance_param):
        raise ApiError(400, "invalid_parameter", "Missing instance_id query parameter.")
    if not caller.matched or caller.access is None:
        raise invalid_token()
    caller.access.require_working()
    return caller.access


def invalid_token() -> ApiError:
    """Unknown instance or wrong token: one answer for both."""
    return ApiError(401, "unauthorized", "Invalid or missing access token for this instance_id.")
