"""The SITREP as a one-page A4 PDF (reportlab): the headline, the figures, the map image."""

from __future__ import annotations

import io

from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Image, KeepInFrame, Paragraph, SimpleDocTemplate, Spacer

from konenut.app.sitrep import Sitrep, clock_time, headline, sections
from konenut.i18n import RTL_LANGUAGES, catalogue
from konenut.reports.fonts import BASE_FONT, markup, register_fonts

MARGIN = 1.5 * cm
PAGE_LIST_CAP = 10  # items per list on the page: the rest is "+N" (one page, always)
MAP_WIDTH = 15 * cm
MAP_HEIGHT = MAP_WIDTH * 0.75  # the map image's 4:3


def render_pdf(sitrep: Sitrep, lang: str, map_png: bytes) -> bytes:
    """One A4 page in `lang` (CPU-heavy: call it off the event loop)."""
    register_fonts()
    align = TA_RIGHT if lang in RTL_LANGUAGES else TA_LEFT
    title = ParagraphStyle("title", fontName=BASE_FONT, fontSize=16, leading=20, alignment=align)
    head = ParagraphStyle(
        "head", fontName=BASE_FONT, fontSize=10.5, leading=13, alignment=align, spaceBefore=5
    )
    item = ParagraphStyle("item", fontName=BASE_FONT, fontSize=9, leading=11, alignment=align)
    words = catalogue(lang)
    story: list[object] = [
        Paragraph(f"<b>{markup(headline(lang, sitrep), lang)}</b>", title),
        Paragraph(markup(_opened(sitrep, lang), lang), item),
    ]
    for heading, items in sections(sitrep, lang, PAGE_LIST_CAP):
        story.append(Paragraph(f"<b>{markup(heading, lang)}</b>", head))
        for text in items or [words["sitrep.none"]]:
            story.append(
                Paragraph(markup(f"• {text}" if align == TA_LEFT else f"{text} •", lang), item)
            )
    story += [Spacer(1, 0.3 * cm), Image(io.BytesIO(map_png), MAP_WIDTH, MAP_HEIGHT)]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=headline(lang, sitrep),
        author=sitrep.site_name,
    )
    # Whatever the figures, one page: the content shrinks to the frame rather than flowing on.
    frame_size = (A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN)
    document.build([KeepInFrame(*frame_size, content=story, mode="shrink")])
    return out.getvalue()


def _opened(sitrep: Sitrep, lang: str) -> str:
    return catalogue(lang)["sitrep.opened"].format(
        site=sitrep.site_name, time=clock_time(sitrep.opened_at, sitrep.timezone)
    )
