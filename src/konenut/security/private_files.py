"""Secrets kept in the data dir: created once, readable by the owner only, never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600


def create_private_file(path: Path, content: bytes) -> bool:
    """Write `content` to a new file of mode 0600; False (and nothing written) if it exists.

    Two processes starting together may both try: the first one's file wins, the other reads it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)  # the umask may have removed bits
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return True
