"""chatlabels: a mock server and contract-test kit for the chat-labels API.

Four rooms, each importing only the ones listed after it:

- ``chatlabels.cli``: the ``chatlabels`` command (``python -m chatlabels``);
- ``chatlabels.mock``: the Flask mock server (the repository's ``mock_server/``);
- ``chatlabels.kit``: the contract-test kit (the repository's ``contract_tests/``);
- ``chatlabels.contract``: the contract core, JSON Schemas and the small Python that reads
  them (the repository's ``schemas/``); it imports neither Flask nor the mock nor the kit.

The mock and the kit never import each other. ``chatlabels.fixtures`` carries the bundled
fixture files as data.
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``__version__`` on first use (PEP 562): reading the installed metadata costs a pytest
    start several milliseconds, and every pytest run in the environment imports this package
    for its plugins."""
    if name != "__version__":
        raise AttributeError(f"module 'chatlabels' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chatlabels")
    except PackageNotFoundError:  # a source tree on sys.path without an install
        return "0+unknown"
