"""QR codes for enrollment links and passes, and the printed form of their codes (§4)."""

from __future__ import annotations

import io
import string
from pathlib import Path

import segno

QR_ERROR_LEVEL = "m"
QR_BORDER_MODULES = 4  # the quiet zone the QR standard requires
CODE_GROUP_CHARS = 4
CODE_LENGTHS_CHARS = (8, 16)  # enrollment codes and standing-pass codes
CODE_SEPARATOR = "-"
_CODE_ALPHABET = frozenset(string.ascii_uppercase + string.digits)


def qr_png(data: str, path: Path, scale: int = 8) -> Path:
    """Write ``data`` as a PNG QR code (``scale`` pixels per module) and return the path."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1 pixel per module, got {scale}")
    _make_qr(data).save(str(path), kind="png", scale=scale, border=QR_BORDER_MODULES)
    return path


def qr_terminal(data: str) -> str:
    """Return ``data`` as a QR code drawn with characters, ready to print in a terminal."""
    buffer = io.StringIO()
    _make_qr(data).terminal(out=buffer, border=QR_BORDER_MODULES, compact=True)
    return buffer.getvalue()


def normalize_code(code: str) -> str:
    """Turn a typed code ("abcd-efgh", "ABCD EFGH") into its bare upper-case form."""
    bare = "".join(code.split()).replace(CODE_SEPARATOR, "").upper()
    if len(bare) not in CODE_LENGTHS_CHARS:
        raise ValueError(
            f"A code has 8 or 16 characters (without dashes), got {len(bare)}: {code!r}"
        )
    if not set(bare) <= _CODE_ALPHABET:
        raise ValueError(f"A code has only letters and digits: {code!r}")
    return bare


def format_code(code: str) -> str:
    """Print a code in groups of four: "ABCDEFGH" -> "ABCD-EFGH" (16 chars -> 4 groups)."""
    bare = normalize_code(code)
    groups = (bare[i : i + CODE_GROUP_CHARS] for i in range(0, len(bare), CODE_GROUP_CHARS))
    return CODE_SEPARATOR.join(groups)


def _make_qr(data: str) -> segno.QRCode:
    if not data:
        raise ValueError("A QR code needs some data to encode")
    # A full QR code (never a Micro QR, which phone cameras do not read) at level M exactly.
    return segno.make_qr(data, error=QR_ERROR_LEVEL, boost_error=False)
