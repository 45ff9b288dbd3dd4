"""Message catalogues per language, shared by server-rendered pages and client scripts."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

LANGUAGES: tuple[str, ...] = ("he", "ar", "en", "th", "ne")
RTL_LANGUAGES = frozenset({"he", "ar"})
FALLBACK_LANGUAGE = "en"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language (KeyError for a language we do not ship)."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    text = files("konenut.web").joinpath("i18n", f"{lang}.json").read_text(encoding="utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"
