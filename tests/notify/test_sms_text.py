"""SMS text: GSM-7 vs UCS-2 limits, word-boundary truncation, and the muster call at the limit."""

from __future__ import annotations

import unicodedata

import pytest

from konenut.app.muster import BUILT_IN_TEMPLATES
from konenut.app.sms_text import (
    GSM7_SEGMENT_CHARS,
    UCS2_SEGMENT_UNITS,
    fit_sms,
    gsm7_length,
    is_gsm7,
    sms_length,
    ucs2_length,
)
from konenut.app.texts import HAPPENED_SEPARATOR, CallText, join_sentences, sms_call
from konenut.i18n import LANGUAGES, catalogue

WORDS_EN = "Hostile infiltration: come armed to the armory now. Reply 1 coming 2 cannot. "
HEBREW = "חדירת מחבלים: הגיעו חמושים לנשקייה מיד. השיבו 1 מגיע 2 לא יכול. "
THAI = "มีผู้บุกรุก มาพร้อมอาวุธที่คลังอาวุธ ตอบ 1 มา 2 ไม่ได้ "
NEPALI = "घुसपैठ: हतियारसहित शस्त्रागारमा आउनुहोस्। जवाफ 1 आउँदै 2 सक्दिन "
# A rally point's name in each language, long enough to be cut at any length.
RALLY_NAMES = {
    "he": "שער הצפוני ליד המזכירות הישנה ",
    "ar": "البوابة الشمالية قرب السكرتارية القديمة ",
    "en": "North gate by the old secretariat ",
    "th": "ประตูทิศเหนือ ข้างสำนักงานเลขา ",
    "ne": "उत्तरी ढोका पुरानो सचिवालय नजिक ",
}
LINK = "https://konenut.example/he/responder"


def test_exact_fit_is_unchanged() -> None:
    gsm = "x" * GSM7_SEGMENT_CHARS
    assert fit_sms(gsm, "en") == gsm
    hebrew = ("א" * (UCS2_SEGMENT_UNITS - 1)) + "ב"
    assert fit_sms(hebrew, "he") == hebrew
    assert fit_sms("short", "en") == "short"


def test_gsm_and_ucs2_lengths() -> None:
    assert is_gsm7("Come to the armory! @£$ äöü")
    assert gsm7_length("a{b}€") == 8  # three extension characters take two septets each
    assert not is_gsm7("armory …")  # the ellipsis character is not GSM-7
    assert ucs2_length("ok 🚨") == 5  # an emoji is a surrogate pair
    assert sms_length("plain text", "en") == (10, GSM7_SEGMENT_CHARS)
    assert sms_length("plain text", "he") == (10, UCS2_SEGMENT_UNITS)  # language forces UCS-2
    assert sms_length("naïve café ñ", "en")[1] == UCS2_SEGMENT_UNITS  # ï is not GSM-7
    # An extension character can push a GSM text past 160 though it has 160 characters.
    assert fit_sms("x" * 158 + "€", "en") == "x" * 158 + "€"  # 160 septets: fits
    assert fit_sms("x" * 159 + "€", "en") == "x" * 157 + "..."


def test_gsm_truncation_at_word_boundary() -> None:
    text = WORDS_EN * 4
    fitted = fit_sms(text, "en")
    assert gsm7_length(fitted) <= GSM7_SEGMENT_CHARS
    assert fitted.endswith("...") and "…" not in fitted  # stays GSM-7
    body = fitted.removesuffix("...")
    assert text.startswith(body)
    assert text[len(body)] in " ,.:", "cut inside a word"
    assert len(fitted) > GSM7_SEGMENT_CHARS - 15  # not needlessly short


def test_one_long_word_is_cut_inside_it() -> None:
    fitted = fit_sms("y" * 400, "en")
    assert fitted == "y" * (GSM7_SEGMENT_CHARS - 3) + "..."


def test_non_gsm_character_switches_to_70() -> None:
    text = "Zbiórka w zbrojowni, przyjdź uzbrojony. Odpowiedz 1 przychodzę 2 nie mogę. " * 2
    fitted = fit_sms(text, "pl")
    assert ucs2_length(fitted) <= UCS2_SEGMENT_UNITS
    assert fitted.endswith("…")


def test_hebrew_limit_and_boundary() -> None:
    text = HEBREW * 3
    fitted = fit_sms(text, "he")
    assert ucs2_length(fitted) <= UCS2_SEGMENT_UNITS
    assert fitted.endswith("…")
    body = fitted.removesuffix("…")
    assert text.startswith(body) and text[len(body)] in " ,.:"
    assert body.startswith("חדירת מחבלים")


def test_thai_limit_keeps_marks_with_their_letters() -> None:
    text = THAI * 3
    fitted = fit_sms(text, "th")
    assert ucs2_length(fitted) <= UCS2_SEGMENT_UNITS
    assert fitted.endswith("…")
    assert text.startswith(fitted.removesuffix("…"))
    # Thai without spaces: the cut must not separate a base letter from its vowel/tone mark.
    unspaced = "มีผู้บุกรุกมาพร้อมอาวุธที่คลังอาวุธ" * 4
    fitted = fit_sms(unspaced, "th")
    assert ucs2_length(fitted) <= UCS2_SEGMENT_UNITS
    body = fitted.removesuffix("…")
    assert unspaced.startswith(body)
    assert not unicodedata.category(unspaced[len(body)]).startswith("M")


def test_nepali_and_arabic_limits() -> None:
    for text, lang in ((NEPALI * 3, "ne"), ("تسلل معادٍ: تعالوا مسلحين إلى المستودع. " * 3, "ar")):
        fitted = fit_sms(text, lang)
        assert ucs2_length(fitted) <= UCS2_SEGMENT_UNITS
        assert fitted.endswith("…")
        body = fitted.removesuffix("…")
        assert text.startswith(body) and text[len(body)] in " :.।"


@pytest.mark.parametrize("template", sorted(BUILT_IN_TEMPLATES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_muster_sms_says_what_to_do_then_where_then_the_reply_at_the_segment_limit(
    lang: str, template: str
) -> None:
    messages = catalogue(lang)
    what = messages[f"muster.template.{template}"]
    todo = what.split(HAPPENED_SEPARATOR, 1)[-1]
    todo = todo[:1].upper() + todo[1:]
    reply = messages["notify.reply"]
    where, _, _ = messages["notify.rally"].partition("{point}")  # "Rally: "
    named, over = [], []  # the name whole in the SMS; the whole call over the limit
    for chars in range(1, 140):
        name = (RALLY_NAMES[lang] * 5)[:chars].strip()
        rally = messages["notify.rally"].format(point=name)
        sms = sms_call(CallText(lang=lang, what=what, rally=rally, custom=""), LINK)
        length, limit = sms_length(sms, lang)
        named.append(name in sms)
        over.append(sms_length(join_sentences([what, rally, reply]), lang)[0] > limit)
        assert length <= limit, sms
        # What to do first and whole (after what happened, when that fits too), the reply whole.
        assert sms.startswith((todo, what, what.replace("—", "-"))), sms
        assert reply in sms, sms
        if where in sms:  # then where, between them
            assert sms.index(todo[1:]) < sms.index(where) < sms.index(reply), sms
        else:  # left out only when not even a few letters of the name fit
            short = join_sentences([todo, f"{where}{name[:4]}…", reply])
            assert sms_length(short, lang)[0] > limit, sms
        if name not in sms:  # the name is shortened only when it must be
            assert sms_length(join_sentences([todo, rally, reply]), lang)[0] > limit, sms
    assert any(named) and any(over)  # both sides of the segment limit were tried
