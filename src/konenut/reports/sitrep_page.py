"""The SITREP as one printable HTML page: self-contained (styles inline, the map as a data:
image), in the reader's language and direction, sized to one A4 sheet."""

from __future__ import annotations

import base64
from html import escape

from konenut.app.sitrep import Sitrep, clock_time, headline, sections
from konenut.i18n import catalogue, direction

PAGE_LIST_CAP = 10  # as on the PDF: one sheet, the rest of a long list is "+N"
STYLE = """
@page { size: A4; margin: 12mm; }
body { font-family: "Noto Sans", "Noto Sans Hebrew", "Noto Sans Arabic", "Noto Sans Thai",
  "Noto Sans Devanagari", sans-serif; font-size: 11pt; color: #111; background: #fff;
  margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 3mm 0 1mm; }
ul { margin: 0; padding-inline-start: 5mm; }
li { margin: 0; }
.opened { color: #444; margin: 0; }
.figures { columns: 2; column-gap: 8mm; }
.figures section { break-inside: avoid; }
img { display: block; width: 100%; max-height: 120mm; object-fit: contain; margin-top: 3mm; }
.drill { color: #b00; }
"""


def render_html(sitrep: Sitrep, lang: str, map_png: bytes) -> str:
    words = catalogue(lang)
    figures = "".join(
        f"<section><h2>{escape(heading)}</h2><ul>"
        + "".join(f"<li>{escape(text)}</li>" for text in items or [words["sitrep.none"]])
        + "</ul></section>"
        for heading, items in sections(sitrep, lang, PAGE_LIST_CAP)
    )
    opened = words["sitrep.opened"].format(
        site=sitrep.site_name, time=clock_time(sitrep.opened_at, sitrep.timezone)
    )
    picture = base64.b64encode(map_png).decode("ascii")
    title_class = ' class="drill"' if sitrep.drill else ""
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(headline(lang, sitrep))}</title><style>{STYLE}</style></head><body>"
        f"<h1{title_class}>{escape(headline(lang, sitrep))}</h1>"
        f'<p class="opened">{escape(opened)}</p>'
        f'<div class="figures">{figures}</div>'
        f'<img alt="{escape(words["sitrep.map"])}" src="data:image/png;base64,{picture}">'
        "</body></html>"
    )
