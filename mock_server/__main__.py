"""``python -m mock_server`` is the ``chatlabels`` command."""

import sys

from .cli import main

sys.exit(main())
