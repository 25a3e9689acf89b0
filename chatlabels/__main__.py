"""``python -m chatlabels`` is the ``chatlabels`` command."""

import sys

from chatlabels.cli import main

sys.exit(main())
