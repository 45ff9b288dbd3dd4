"""Household cards as printed: the card's data with its link, QR and short instructions in the
household's languages, and the standalone HTML page `konenut cards print` writes."""

from __future__ import annotations

from html import escape
from typing import Any

from konenut.app import passes
from konenut.i18n import LANGUAGES, catalogue, direction
from konenut.web.routes import STATIC_DIR


def card_language(languages: list[str]) -> str:
    """The language a household's link opens in: its first one we have pages in."""
    return next((lang for lang in languages if lang in LANGUAGES), "he")


def card_texts(languages: list[str]) -> list[dict[str, str]]:
    """The card's short instructions in each of the household's languages we ship."""
    shown = [lang for lang in dict.fromkeys(languages) if lang in LANGUAGES] or ["he"]
    return [
        {
            "lang": lang,
            "dir": direction(lang),
            "title": catalogue(lang)["card.title"],
            "instructions": catalogue(lang)["card.instructions"],
        }
        for lang in shown
    ]


def printed_card(base_url: str, card: dict[str, Any], code: str) -> dict[str, Any]:
    """A card as printed: its data, the code, the link in the household's language, the QR."""
    link = passes.pass_link(base_url, code, card_language(card["languages"]))
    return {
        **card,
        "code": code,
        "link": link,
        "qr_data_url": passes.qr_data_url(link),
        "texts": card_texts(card["languages"]),
    }


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
