"""Where the bundled JSON Schemas and fixture files are, however chatlabels was installed.

Both ride inside the ``chatlabels`` package (``chatlabels.contract`` is the repository's
``schemas/``, ``chatlabels.fixtures`` its ``fixtures/``), so a source checkout, an editable
install and a wheel all find them beside the code.
"""

from __future__ import annotations

from pathlib import Path

import chatlabels.fixtures

__all__ = ["FIXTURE_DIR", "SCHEMA_DIR"]

SCHEMA_DIR = Path(__file__).resolve().parent
FIXTURE_DIR = Path(chatlabels.fixtures.__file__).resolve().parent
