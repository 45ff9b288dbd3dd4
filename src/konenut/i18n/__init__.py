"""Message catalogues per language, shared by server-rendered pages and client scripts.

One JSON file per language in this package, all with the same keys. Pages embed (a part of) their
language's catalogue; scripts look keys up with `t("key")`. `tests/web/test_i18n.py` fails on
a missing key, on a value copied from English and on a value not written in its script.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

LANGUAGES: tuple[str, ...] = ("he", "ar", "en", "th", "ne")
RTL_LANGUAGES = frozenset({"he", "ar"})
FALLBACK_LANGUAGE = "en"
# Each language's name in its own script, for the language menu (so not in the catalogues).
LANGUAGE_NAMES: dict[str, str] = {
    "he": "עברית",
    "ar": "العربية",
    "en": "English",
    "th": "ไทย",
    "ne": "नेपाली",
}
# Broadcast templates: an operator picks one and every household reads it in its language.
INSTRUCTION_PREFIX = "instruction."


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language (KeyError for a language we do not ship)."""
    if lang not in LANGUAGES:
        raise KeyError(lang)
    text = files("konenut.i18n").joinpath(f"{lang}.json").read_text(encoding="utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def direction(lang: str) -> str:
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


@cache
def instructions() -> dict[str, dict[str, str]]:
    """Every broadcast template in every language: {key: {lang: text}}."""
    keys = [k for k in catalogue(FALLBACK_LANGUAGE) if k.startswith(INSTRUCTION_PREFIX)]
    return {key: {lang: catalogue(lang)[key] for lang in LANGUAGES} for key in keys}
