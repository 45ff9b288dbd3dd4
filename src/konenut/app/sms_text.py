"""Fit an SMS text into one segment: 160 GSM-7 characters, or 70 UTF-16 units (UCS-2)."""

from __future__ import annotations

import unicodedata

GSM7_SEGMENT_CHARS = 160  # 140 bytes of 7-bit septets
UCS2_SEGMENT_UNITS = 70  # 140 bytes of 16-bit units
# A segment of a longer (concatenated) SMS gives 6 of its 140 bytes to the header that puts
# the parts back together on the phone.
CONCATENATED_GSM7_CHARS = 153
CONCATENATED_UCS2_UNITS = 67
# GSM 03.38 default alphabet (one septet each), without the escape character.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"  # escape + one septet: two each
# Scripts that always need UCS-2; checked by language too so the limit never depends on
# whether this particular text happens to contain a Latin-only phrase.
UCS2_LANGUAGES = frozenset({"he", "ar", "th", "ne"})
GSM7_ELLIPSIS = "..."  # "…" is not in GSM-7: it would switch the whole text to UCS-2
UCS2_ELLIPSIS = "…"
TRAILING_SEPARATORS = " \t\r\n,;:-–—"  # dropped before the ellipsis

_GSM7_BASIC_SET = frozenset(GSM7_BASIC)
_GSM7_EXTENSION_SET = frozenset(GSM7_EXTENSION)


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 alphabet (basic or extension table)."""
    return all(c in _GSM7_BASIC_SET or c in _GSM7_EXTENSION_SET for c in text)


def gsm7_length(text: str) -> int:
    """Septets needed: extension characters take two."""
    return sum(2 if c in _GSM7_EXTENSION_SET else 1 for c in text)


def ucs2_length(text: str) -> int:
    """UTF-16 code units needed: characters beyond the BMP (emoji) take two."""
    return len(text.encode("utf-16-le")) // 2


def uses_ucs2(text: str, lang: str) -> bool:
    primary = lang.split("-", 1)[0].split("_", 1)[0].lower()
    return primary in UCS2_LANGUAGES or not is_gsm7(text)


def sms_length(text: str, lang: str) -> tuple[int, int]:
    """(length in the encoding's units, the one-segment limit) for this text and language."""
    if uses_ucs2(text, lang):
        return ucs2_length(text), UCS2_SEGMENT_UNITS
    return gsm7_length(text), GSM7_SEGMENT_CHARS


def sms_segments(text: str, lang: str) -> int:
    """How many segments the phone network carries this text in."""
    length, limit = sms_length(text, lang)
    if length <= limit:
        return 1
    part = CONCATENATED_UCS2_UNITS if limit == UCS2_SEGMENT_UNITS else CONCATENATED_GSM7_CHARS
    return -(-length // part)


def fit_sms(text: str, lang: str) -> str:
    """`text` unchanged if it fits one segment, else cut with an ellipsis at a word boundary.

    Put the essentials first: the end is what is dropped. A single word longer than the
    segment is cut inside the word, but never between a letter and its combining mark
    (Thai vowels and tone marks, Devanagari matras, Hebrew points).
    """
    length, limit = sms_length(text, lang)
    if length <= limit:
        return text
    ucs2 = uses_ucs2(text, lang)
    ellipsis = UCS2_ELLIPSIS if ucs2 else GSM7_ELLIPSIS
    measure = ucs2_length if ucs2 else gsm7_length
    budget = limit - measure(ellipsis)
    end = 0  # longest prefix text[:end] within budget
    used = 0
    for char in text:
        size = measure(char)
        if used + size > budget:
            break
        used += size
        end += 1
    # Prefer the last whitespace that leaves something before it.
    cut = end
    if not text[end].isspace():
        space = max((i for i in range(end) if text[i].isspace()), default=-1)
        if space > 0 and text[:space].strip():
            cut = space
    while 0 < cut < len(text) and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1  # do not strip a combining mark from its base letter
    head = text[:cut].rstrip(TRAILING_SEPARATORS)
    return head + ellipsis
