"""Reading a user's file or stdin without trusting what it is or how big it is.

``chatlabels serve --fixtures`` and ``chatlabels validate`` read paths a user typed: a FIFO
would block for ever, ``/dev/zero`` (or a symlink to it) would fill the memory, and a pipe
on stdin can be just as endless. Both commands read through here, with the same bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["read_at_most", "read_regular_file"]


def read_regular_file(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (after symlinks) of at most ``max_bytes``.

    Opened without blocking and checked on the open descriptor, so a FIFO put in its place
    between a check and the open cannot block either. Raises ``OSError`` saying why not.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file (a FIFO, device or directory); give a JSON file")
        if info.st_size > max_bytes:
            raise OSError(0, f"{info.st_size} bytes, over the limit of {max_bytes}")
        return read_at_most(file, max_bytes)  # it may grow while being read


def read_at_most(stream: BinaryIO, max_bytes: int) -> bytes:
    """All of ``stream`` if it ends within ``max_bytes``; ``OSError`` as soon as it does not.

    Reads one byte past the bound and no further, so an endless stream costs ``max_bytes``.
    """
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(0, f"over the limit of {max_bytes} bytes")
    return data
