"""What a muster call says on each channel, in the person's language (texts in the catalogues)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from konenut.app.muster import template_text, templates
from konenut.app.sms_text import (
    CONCATENATED_UCS2_UNITS,
    GSM7_ELLIPSIS,
    GSM7_SEGMENT_CHARS,
    TRAILING_SEPARATORS,
    UCS2_ELLIPSIS,
    UCS2_SEGMENT_UNITS,
    gsm7_length,
    ucs2_length,
    uses_ucs2,
)
from konenut.domain.languages import reader_languages
from konenut.domain.muster import rally_feature
from konenut.domain.state import PersonView, SiteState
from konenut.i18n import catalogue

# Typography the catalogues use that GSM-7 lacks: one such character would make a Latin text
# UCS-2 and halve its SMS (70 instead of 160 characters).
GSM7_FRIENDLY = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"'})
MIN_CUT_UNITS = 12  # below this a cut "what" says nothing: cut the whole text instead
MIN_NAME_UNITS = 4  # below this a cut rally point name says nothing: leave it out
# A template reads "what happened — what to do"; an SMS short of room keeps what to do.
HAPPENED_SEPARATOR = " — "
DEPUTY_NAMES_SHOWN = 5
LANGUAGE_SEPARATOR = "\n"  # between the languages of a message that serves several readers
# The digit that changes an answer, told in the confirmation: "2" undoes "coming" and back.
CHANGE_DIGIT = {"cannot": "1"}
DEFAULT_CHANGE_DIGIT = "2"


@dataclass(frozen=True)
class CallText:
    """A muster call's pieces in one language."""

    lang: str
    what: str  # the template's text: what happened and what to bring
    rally: str  # "Rally: Armory"
    custom: str  # the commander's own words, if any


def language_of(state: SiteState, person: PersonView | None) -> str:
    """The person's first language we have texts in, else their household's, else the site's."""
    return reader_languages(state, person)[0]


def rally_point_name(state: SiteState, ref: str, lang: str) -> str:
    """The rally point's name in `lang` from the site plan, else its plain name, else its ref."""
    feature = rally_feature(state, ref)
    props = (feature or {}).get("properties") or {}
    return str(props.get(f"name_{lang}") or props.get("name") or ref)


def call_text(state: SiteState, muster: dict[str, Any], lang: str) -> CallText:
    messages = catalogue(lang)
    template = templates(state).get(str(muster.get("template") or ""))
    what = template_text(template, lang) if template else ""
    point = rally_point_name(state, str(muster["rally_point_ref"]), lang)
    return CallText(
        lang=lang,
        what=what,
        rally=messages["notify.rally"].format(point=point),
        custom=str(muster.get("text") or "").strip(),
    )


def sms_call(text: CallText, link: str | None = None) -> str:
    """One SMS segment: what to do, where, how to answer; then the commander's text and the
    link when they fit. Short of room, what happened goes first ("Hostile infiltration — "),
    then the rally point's name is shortened, or left out when too little room is left for it;
    what to do and the reply digits stay whole."""
    reply = catalogue(text.lang)["notify.reply"]
    extras = [e for e in (text.custom, link) if e]
    todo = text.what.split(HAPPENED_SEPARATOR, 1)[-1]
    todo = todo[:1].upper() + todo[1:]  # now the start of the message
    for what in dict.fromkeys([text.what, todo]):
        essentials = [p for p in (what, text.rally, reply) if p]
        if fits_one_segment(essentials, extras, text.lang):
            return one_segment(essentials, extras, text.lang)
    rally = _shortened_rally(text, [todo, reply], extras)
    return one_segment([p for p in (todo, rally, reply) if p], extras, text.lang)


def _shortened_rally(text: CallText, around: list[str], extras: list[str]) -> str:
    """`text.rally` with the point's name cut to the room the other pieces leave ("" when
    fewer than MIN_NAME_UNITS are left)."""
    prefix, _, suffix = catalogue(text.lang)["notify.rally"].partition("{point}")
    name = text.rally.removeprefix(prefix).removesuffix(suffix)
    pieces = [_gsm_friendly(p, text.lang) for p in [*around, text.rally, *extras]]
    ucs2, limit = _segment(pieces, text.lang)
    measure = ucs2_length if ucs2 else gsm7_length
    room = limit - measure(join_sentences([around[0], prefix + suffix, *around[1:]]))
    while room >= MIN_NAME_UNITS:
        rally = prefix + _cut(name, room, ucs2) + suffix
        if fits_one_segment([around[0], rally, *around[1:]], extras, text.lang):
            return rally
        room -= 1  # the full stop or space the name brings with it
    return ""


def push_call(text: CallText) -> tuple[str, str]:
    """(title, body) of the Web Push notification."""
    messages = catalogue(text.lang)
    title = text.what or text.rally
    return title, join_sentences([text.rally, text.custom, messages["notify.push_answer"]])


def deputy_text(lang: str, names: list[str]) -> tuple[str, str]:
    """(title, body) telling a commander who has not answered."""
    messages = catalogue(lang)
    shown = ", ".join(names[:DEPUTY_NAMES_SHOWN])
    if len(names) > DEPUTY_NAMES_SHOWN:
        shown += f" +{len(names) - DEPUTY_NAMES_SHOWN}"
    body = messages["notify.deputy_body"].format(count=len(names), names=shown)
    return messages["notify.deputy_title"], body


def bring_text(
    state: SiteState, muster: dict[str, Any], asset_name: str, request: dict[str, Any], lang: str
) -> tuple[str, str]:
    """(title, body) asking a holder to bring a key or radio to the rally point; one segment."""
    messages = catalogue(lang)
    point = rally_point_name(state, str(muster["rally_point_ref"]), lang)
    ask = messages["notify.bring"].format(asset=asset_name, point=point)
    extra = [str(request.get("text") or "").strip()]
    return messages["notify.bring_title"], one_segment([ask], [e for e in extra if e], lang)


def confirmation_text(lang: str, status: str, replies_by_text: bool) -> tuple[str, str]:
    """(title, body) confirming an answer; on SMS/Telegram it says which digit changes it."""
    messages = catalogue(lang)
    said = messages.get(f"status.{status}", status)
    body = messages["notify.confirmed"].format(status=said)
    if replies_by_text:
        digit = CHANGE_DIGIT.get(status, DEFAULT_CHANGE_DIGIT)
        body = f"{body} {messages['notify.change_reply'].format(digit=digit)}"
        body = one_segment([body], [], lang)
    return messages["notify.confirm_title"], body


def join_sentences(pieces: list[str]) -> str:
    """Pieces as sentences: a full stop after each piece that ends without punctuation."""
    kept = [p for p in pieces if p]
    return " ".join(
        p if i == len(kept) - 1 or unicodedata.category(p[-1]).startswith("P") else f"{p}."
        for i, p in enumerate(kept)
    )


def sms_in_languages(parts: list[tuple[str, list[str], str]]) -> str:
    """One SMS carrying each `(text, extras, lang)` part on a line of its own: one segment for
    one language; for more, one segment of a concatenated SMS for each (two for Thai and
    Nepali), the whole text in UCS-2 since another script is in it."""
    if len(parts) == 1:
        (text, extras, lang), *_ = parts
        return one_segment([text], extras, lang)
    units = CONCATENATED_UCS2_UNITS - len(LANGUAGE_SEPARATOR)
    return LANGUAGE_SEPARATOR.join(
        one_segment([text], extras, lang, units=units) for text, extras, lang in parts
    )


def one_segment(
    essentials: list[str], extras: list[str], lang: str, *, units: int | None = None
) -> str:
    """Essentials joined, the first one cut if they do not fit one SMS segment (or the `units`
    of a UCS-2 message it is a part of); then each extra that still fits whole."""
    pieces = [_gsm_friendly(p, lang) for p in essentials]
    extras = [_gsm_friendly(p, lang) for p in extras]
    ucs2, limit = (True, units) if units is not None else _segment(pieces + extras, lang)
    measure = ucs2_length if ucs2 else gsm7_length
    text = join_sentences(pieces)
    if measure(text) > limit:
        rest = " " + join_sentences(pieces[1:]) if len(pieces) > 1 else ""
        budget = limit - measure(rest)
        if budget >= MIN_CUT_UNITS:
            text = _cut(pieces[0], budget, ucs2) + rest
        else:
            text = _cut(text, limit, ucs2)
    for extra in extras:
        longer = join_sentences([text, extra])
        if measure(longer) <= limit:
            text = longer
    return text


def fits_one_segment(essentials: list[str], extras: list[str], lang: str) -> bool:
    """True when the essentials joined fit one segment uncut (the extras may set the encoding)."""
    pieces = [_gsm_friendly(p, lang) for p in essentials]
    ucs2, limit = _segment(pieces + [_gsm_friendly(p, lang) for p in extras], lang)
    measure = ucs2_length if ucs2 else gsm7_length
    return measure(join_sentences(pieces)) <= limit


def _segment(pieces: list[str], lang: str) -> tuple[bool, int]:
    """(UCS-2?, one segment's limit) for a text made of these pieces."""
    ucs2 = uses_ucs2(" ".join(pieces), lang)
    return ucs2, UCS2_SEGMENT_UNITS if ucs2 else GSM7_SEGMENT_CHARS


def _gsm_friendly(text: str, lang: str) -> str:
    return text if uses_ucs2("", lang) else text.translate(GSM7_FRIENDLY)


def _cut(text: str, units: int, ucs2: bool) -> str:
    """`text` within `units`, cut at a word boundary with an ellipsis if it is longer."""
    measure = ucs2_length if ucs2 else gsm7_length
    if measure(text) <= units:
        return text
    ellipsis = UCS2_ELLIPSIS if ucs2 else GSM7_ELLIPSIS
    budget = units - measure(ellipsis)
    end = used = 0
    for char in text:
        used += measure(char)
        if used > budget:
            break
        end += 1
    cut = end
    if not text[end].isspace():
        space = text.rfind(" ", 0, end)
        if space > end // 2:  # a word boundary, unless it would drop most of what fits
            cut = space
    while 0 < cut < len(text) and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1  # never strip a combining mark (Thai vowels, Devanagari matras) off its letter
    return text[:cut].rstrip(TRAILING_SEPARATORS) + ellipsis
