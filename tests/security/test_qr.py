"""Tests for QR code output and the printed form of enrollment and pass codes."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from konenut.security.qr import format_code, normalize_code, qr_png, qr_terminal

LINK = "https://konenut.local/he/enroll#ABCDEFGH"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BORDER_MODULES = 4


def _png_size_px(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_MAGIC
    assert header[12:16] == b"IHDR"
    width_px, height_px = struct.unpack(">II", header[16:24])
    return width_px, height_px


def test_png_has_magic_bytes(tmp_path: Path) -> None:
    path = qr_png(LINK, tmp_path / "enroll.png")
    assert path == tmp_path / "enroll.png"
    assert path.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("scale", [1, 8, 10])
def test_png_size_is_modules_times_scale(tmp_path: Path, scale: int) -> None:
    path = qr_png(LINK, tmp_path / "enroll.png", scale=scale)
    width_px, height_px = _png_size_px(path)
    assert width_px == height_px
    assert width_px % scale == 0
    modules = width_px // scale - 2 * BORDER_MODULES
    # A regular QR code (never Micro QR) has 21 + 4·k modules per side.
    assert modules >= 21 and (modules - 21) % 4 == 0


def test_png_grows_with_data(tmp_path: Path) -> None:
    short = _png_size_px(qr_png("A", tmp_path / "short.png"))
    long = _png_size_px(qr_png(LINK * 4, tmp_path / "long.png"))
    assert short[0] == (21 + 2 * BORDER_MODULES) * 8  # version 1, even for one character
    assert long[0] > short[0]


def test_png_rejects_bad_scale_and_empty_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        qr_png(LINK, tmp_path / "x.png", scale=0)
    with pytest.raises(ValueError, match="data"):
        qr_png("", tmp_path / "x.png")


def test_png_decodes_back_to_the_text(tmp_path: Path) -> None:
    # A real QR reader, not our own code: `make test` installs it (.ci/install-system-packages).
    assert shutil.which("zbarimg"), "zbarimg is missing: sudo apt-get install zbar-tools"
    path = qr_png(LINK, tmp_path / "enroll.png")
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == LINK


def test_terminal_output_is_multiline_and_deterministic() -> None:
    drawing = qr_terminal(LINK)
    lines = drawing.splitlines()
    assert len(lines) > 10
    assert all(line.strip() for line in lines)
    assert qr_terminal(LINK) == drawing
    assert qr_terminal(LINK + "X") != drawing


def test_format_code_groups_of_four() -> None:
    assert format_code("ABCDEFGH") == "ABCD-EFGH"
    assert format_code("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"


def test_format_code_accepts_typed_forms() -> None:
    assert format_code("abcd-efgh") == "ABCD-EFGH"
    assert format_code(" abcd efgh ") == "ABCD-EFGH"
    assert normalize_code("abcd-efgh-jkmn-pqrs") == "ABCDEFGHJKMNPQRS"


@pytest.mark.parametrize("code", ["", "ABCDEFG", "ABCDEFGHJ", "ABCDEFGHJKMNPQR", "A" * 32])
def test_format_code_rejects_wrong_lengths(code: str) -> None:
    with pytest.raises(ValueError, match="8 or 16"):
        format_code(code)


def test_format_code_rejects_other_characters() -> None:
    with pytest.raises(ValueError, match="letters and digits"):
        format_code("ABCD#EFG")
