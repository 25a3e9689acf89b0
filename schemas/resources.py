"""Where the bundled JSON Schemas and fixture files are, however chatlabels was installed.

Both ride inside the ``chatlabels`` package (``chatlabels.contract`` is the repository's
``schemas/``, ``chatlabels.fixtures`` its ``fixtures/``), so a source checkout, an editable
install and a wheel all find them beside the code.
"""

from __future__ import annotations

from pathlib import Path

import chatlabels.fixtures

__all__ = ["FIXTURE_DIR", "SCHEMA_DIR", "bundled_fixtures", "find_fixture"]

SCHEMA_DIR = Path(__file__).resolve().parent
FIXTURE_DIR = Path(chatlabels.fixtures.__file__).resolve().parent


def bundled_fixtures() -> dict[str, Path]:
    """The fixture files shipped in the package, by name (file name without ``.json``)."""
    return {path.stem: path for path in sorted(FIXTURE_DIR.glob("*.json"))}


def find_fixture(name: str) -> Path | None:
    """The file a ``--fixtures`` value names: a path that exists, else a bundled fixture
    named with or without ``.json`` (``full-account``), else None. A file of the user's
    wins over a bundled one of the same name: it is what they are looking at."""
    path = Path(name)
    if path.exists():
        return path
    stem = name.removesuffix(".json")
    return bundled_fixtures().get(stem) if "/" not in name else None
