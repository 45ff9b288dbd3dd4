"""Text for reportlab in every language: Noto fonts per script, and RTL lines in visual order.

reportlab draws glyphs left to right with one font per run and shapes nothing. So a line is
reordered for display first (python-bidi; Arabic letters joined by arabic-reshaper), then cut
into runs by script, each in the Noto font that has its glyphs (fonts-noto-core).
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from pathlib import Path

import arabic_reshaper
from bidi import get_display
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from konenut.i18n import RTL_LANGUAGES

NOTO_DIR = Path("/usr/share/fonts/truetype/noto")  # Debian's fonts-noto-core
BASE_FONT = "NotoSans"  # Latin, digits and punctuation
# Script font -> the characters it draws (presentation forms too: the reshaper makes them).
SCRIPT_FONTS: dict[str, str] = {
    "NotoSansHebrew": "\u0590-\u05ff\ufb1d-\ufb4f",
    "NotoSansArabic": "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff",
    "NotoSansThai": "\u0e00-\u0e7f",
    "NotoSansDevanagari": "\u0900-\u097f\u200c\u200d",
}
_RUN = re.compile(
    "|".join(f"(?P<{name}>[{chars}]+)" for name, chars in SCRIPT_FONTS.items())
    + f"|(?P<{BASE_FONT}>[^{''.join(SCRIPT_FONTS.values())}]+)"
)


class FontsMissing(RuntimeError):
    """The Noto fonts are not installed (Debian: fonts-noto-core)."""


@cache
def register_fonts() -> None:
    """Register each Noto font, regular and bold, with reportlab (once per process)."""
    for name in (BASE_FONT, *SCRIPT_FONTS):
        for style, suffix in ((False, "Regular"), (True, "Bold")):
            path = NOTO_DIR / f"{name}-{suffix}.ttf"
            if not path.exists():
                raise FontsMissing(f"{path} is missing: install fonts-noto-core")
            face = f"{name}-Bold" if style else name
            pdfmetrics.registerFont(TTFont(face, str(path)))
            addMapping(name, 0, 0, name)
        addMapping(name, 1, 0, f"{name}-Bold")


def visual(text: str, lang: str) -> str:
    """The line in display order: Hebrew and Arabic reordered (Arabic letters joined)."""
    if lang not in RTL_LANGUAGES:
        return text
    if lang == "ar":
        text = arabic_reshaper.reshape(text)
    return str(get_display(text, base_dir="R"))


def markup(text: str, lang: str) -> str:
    """Paragraph markup of one line: escaped, in display order, each script in its font."""
    runs = []
    for found in _RUN.finditer(visual(text, lang)):
        font = found.lastgroup or BASE_FONT
        runs.append(f'<font name="{font}">{escape(found.group(), quote=False)}</font>')
    return "".join(runs)
