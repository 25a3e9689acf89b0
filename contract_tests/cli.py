"""Commands of the contract-test kit, registered on the ``chatlabels`` parser."""

from __future__ import annotations

import argparse

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the kit's sub-commands (check, validate) on ``commands``."""
