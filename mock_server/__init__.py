"""chatlabels mock server: the chat-labels API of hosted WhatsApp APIs, fed by fixtures.

The names below load on first use (PEP 562), so importing a submodule such as the pytest
plugin, which pytest loads in every run, does not pull in Flask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatlabels.contract.fixtures import (
        DEFAULT_FIXTURE,
        FixtureError,
        load_fixture,
        parse_fixture,
    )
    from chatlabels.mock.app import Settings, create_app
    from chatlabels.mock.serving.server import MockServer
    from chatlabels.mock.state.store import Store

_WHERE = {
    "DEFAULT_FIXTURE": "chatlabels.contract.fixtures",
    "FixtureError": "chatlabels.contract.fixtures",
    "load_fixture": "chatlabels.contract.fixtures",
    "parse_fixture": "chatlabels.contract.fixtures",
    "Settings": "chatlabels.mock.app",
    "create_app": "chatlabels.mock.app",
    "MockServer": "chatlabels.mock.serving.server",
    "Store": "chatlabels.mock.state.store",
}

__all__ = [
    "DEFAULT_FIXTURE",
    "FixtureError",
    "MockServer",
    "Settings",
    "Store",
    "create_app",
    "load_fixture",
    "parse_fixture",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'chatlabels.mock' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
