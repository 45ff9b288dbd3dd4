"""The standalone HTML page of household cards that `konenut cards print` writes (the card's
data as printed, app/cards.py printed_card)."""

from __future__ import annotations

from html import escape
from typing import Any

from konenut.i18n import catalogue, direction
from konenut.web.routes import STATIC_DIR


def _card_html(card: dict[str, Any], lang: str) -> str:
    first = card["texts"][0]
    house = catalogue(lang)["card.house"].replace("{ref}", card["building_ref"] or card["ref"])
    texts = "".join(
        f'<p class="text" lang="{t["lang"]}" dir="{t["dir"]}"><b>{escape(t["title"])}</b>'
        f"{escape(t['instructions'])}</p>"
        for t in card["texts"]
    )
    return (
        f'<article class="card" lang="{first["lang"]}" dir="{first["dir"]}">'
        f'<p class="house">{escape(house)}</p>'
        f'<p class="name" dir="auto">{escape(card["name"])}</p>'
        f'<img class="qr" src="{card["qr_data_url"]}" alt="{escape(card["link"])}">'
        f'<p class="code" dir="ltr">{escape(catalogue(lang)["card.code"])}: {card["code"]}</p>'
        f'<p class="link" dir="ltr">{escape(card["link"])}</p>{texts}</article>'
    )


def standalone_html(cards: list[dict[str, Any]], lang: str) -> str:
    """One self-contained page (styles and QR images inline) to print the cards from."""
    css = (STATIC_DIR / "cards.css").read_text(encoding="utf-8")
    title = escape(catalogue(lang)["card.page_title"])
    body = "".join(_card_html(card, lang) for card in cards)
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction(lang)}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{css}</style></head>"
        f'<body class="cards-page"><main class="cards">{body}</main></body></html>\n'
    )
