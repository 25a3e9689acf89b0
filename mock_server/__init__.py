"""chatlabels mock server: the chat-labels API of hosted WhatsApp APIs, fed by fixtures."""

from . import strict_json
from .app import Settings, create_app
from .errors import ApiError
from .fixtures import DEFAULT_FIXTURE, FixtureError, load_fixture, parse_fixture
from .state import Store

__all__ = [
    "DEFAULT_FIXTURE",
    "ApiError",
    "FixtureError",
    "Settings",
    "Store",
    "create_app",
    "load_fixture",
    "parse_fixture",
    "strict_json",
]
