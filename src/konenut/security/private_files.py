"""Files in the data dir readable by the owner only: secrets, the database, uploads."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
SECRET_BYTES = 32  # 256 bits


def create_private_dir(path: Path) -> Path:
    """`path` and any missing parent, created with mode 0700; `path` itself tightened to 0700
    (a data dir made by an older version, or by hand, was 0755: any local user could read it)."""
    missing = [directory for directory in (path, *path.parents) if not directory.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)  # the umask may have removed bits; an old dir had more
    return path


def create_private_file(path: Path, content: bytes) -> bool:
    """Write `content` to a new file of mode 0600; False (and nothing written) if it exists.

    Two processes starting together may both try (`konenut serve --workers`): the first one's
    file wins and the other reads it. The file appears whole or not at all: it is written under
    a temporary name, then linked into place, which fails if the name is taken.
    """
    if not path.parent.exists():
        create_private_dir(path.parent)
    if path.exists():
        return False
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)  # the umask may have removed bits
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink(missing_ok=True)
    return True


def make_private(path: Path) -> None:
    """Create `path` empty with mode 0600 if it is missing, else tighten it to 0600.

    SQLite creates its -wal and -shm files with the database file's mode, so a database file
    made this way before SQLite opens it keeps all three private.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)


def load_or_create_secret(path: Path) -> str:
    """The secret in `path`, created (random, mode 0600) on first use."""
    if not path.exists():
        create_private_file(path, (secrets.token_urlsafe(SECRET_BYTES) + "\n").encode())
    secret = path.read_text().strip()
    if not secret:
        raise ValueError(f"{path} is empty; remove it to create a new one")
    return secret
