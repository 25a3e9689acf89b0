"""Where the bundled ``schemas/`` and ``fixtures/`` are, however the package was installed.

In a source checkout (and an editable install) they sit beside the packages; a wheel carries
them as the data packages ``chatlabels_schemas`` and ``chatlabels_fixtures`` (see
pyproject.toml), because a wheel has no place for top-level data directories.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["bundled_dir"]

_CHECKOUT = Path(__file__).resolve().parent.parent


def bundled_dir(name: str, *, package: str, marker: str) -> Path:
    """The directory ``name`` of the checkout, or the wheel's data package ``package``.

    ``marker`` is a file the directory must hold, so an unrelated ``schemas/`` that happens
    to sit in site-packages is never taken for ours.
    """
    source = _CHECKOUT / name
    if (source / marker).is_file():
        return source
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"chatlabels is installed without its {name}/ directory")
    return Path(next(iter(spec.submodule_search_locations)))
