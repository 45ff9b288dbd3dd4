"""Replies by SMS or Telegram, free text in five languages, to an answer: a responder's to a
muster call, a resident's to a broadcast (a household check-in).

Contracts §4: responders answer `1` coming, `2` cannot; words in the five languages ("yes",
"כן", "نعم", "ใช่", "हो", ...) map to the same answers. Anything unclear is no answer at all:
a wrong "coming" sends nobody, a wrong "cannot" keeps someone home.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, TypeVar

Answer = Literal["coming", "cannot"]
# A household's answer to a broadcast: the check-in statuses (domain/event_types HouseholdStatus).
HouseholdAnswer = Literal["safe", "need_medic", "intruder", "smoke", "not_home"]
SAFE: HouseholdAnswer = "safe"
NEED_MEDIC: HouseholdAnswer = "need_medic"
INTRUDER: HouseholdAnswer = "intruder"
SMOKE: HouseholdAnswer = "smoke"
NOT_HOME: HouseholdAnswer = "not_home"
T = TypeVar("T")

MAX_REPLY_CHARS = 1000  # an SMS is at most a few hundred characters; the rest is ignored
LONGEST_PHRASE_WORDS = 4  # "we are not home"

COMING: Answer = "coming"
CANNOT: Answer = "cannot"

# Normalised forms (see `_normalise`): lower case, Arabic without vowel marks and with one alef,
# apostrophes removed ("can't" -> "cant"), words joined by one space.
_LEXICON: dict[str, Answer] = {
    word: answer
    for answer, words in (
        (
            COMING,
            (
                "1",
                # en
                "yes",
                "y",
                "yep",
                "yeah",
                "yup",
                "ok",
                "okay",
                "sure",
                "coming",
                "on my way",
                "omw",
                "im coming",
                "i am coming",
                "👍",
                "✅",
                # he
                "כן",
                "מגיע",
                "מגיעה",
                "מגיעים",
                "בדרך",
                "אני מגיע",
                "אני מגיעה",
                "אני בדרך",
                "בא",
                "באה",
                "אני בא",
                "אני באה",
                "סבבה",
                # ar
                "نعم",
                "ايوه",
                "ايوا",
                "اه",
                "قادم",
                "قادمه",
                "ات",
                "اتي",
                "جاي",
                "جايه",
                "حاضر",
                "في الطريق",
                "انا قادم",
                "انا جاي",
                # th (polite particles are stripped first)
                "ใช่",
                "มา",
                "ไป",
                "ได้",
                "โอเค",
                "กำลังไป",
                "กำลังมา",
                # ne
                "हो",
                "हजुर",
                "आउँदैछु",
                "आउँदै छु",
                "आउँछु",
                "आउँदै",
                "ठिक छ",
            ),
        ),
        (
            CANNOT,
            (
                "2",
                # en
                "no",
                "n",
                "nope",
                "cannot",
                "cant",
                "can not",
                "cant come",
                "cannot come",
                "can not come",
                "not coming",
                "unable",
                "👎",
                "❌",
                # he
                "לא",
                # ar
                "لا",
                "لا استطيع",
                "مش قادر",
                "مش قادره",
                "ما بقدر",
                "ما اقدر",
                # th
                "ไม่",
                "ไม่ได้",
                "ไม่ไป",
                "ไม่มา",
                "ไปไม่ได้",
                "มาไม่ได้",
                # ne
                "होइन",
                "हैन",
                "सक्दिन",
                "आउन सक्दिन",
                "आउँदिन",
                "सकिँदैन",
            ),
        ),
    )
    for word in words
}

# Residents: `1` safe, `2` need a medic, `3` someone in the house, `4` smoke/fire, `5` not home.
# No "yes" or "ok" here: to "how are you?" they say nothing clear, and a wrong "safe" hides a
# household that needs help.
_HOUSEHOLD_LEXICON: dict[str, HouseholdAnswer] = {
    word: household_answer
    for household_answer, words in (
        (
            SAFE,
            (
                "1",
                *("safe", "we are safe", "im safe", "all safe", "all good", "fine", "we are ok"),
                *("בטוח", "בטוחה", "בטוחים", "הכל בסדר", "בסדר", "אנחנו בסדר"),
                *("امن", "امنين", "بخير", "نحن بخير", "كلنا بخير"),
                *("ปลอดภัย", "สบายดี", "ปลอดภัยดี"),
                *("सुरक्षित", "ठीक छौं", "हामी सुरक्षित छौं", "सुरक्षित छौं"),
            ),
        ),
        (
            NEED_MEDIC,
            (
                "2",
                *("medic", "need a medic", "need medic", "doctor", "injured", "wounded", "help"),
                *("חובש", "צריך חובש", "צריכים חובש", "פצוע", "פצועה", "פצועים", "עזרה"),
                *("مسعف", "نحتاج مسعف", "اسعاف", "مصاب", "جريح", "مساعده"),
                *("หมอ", "ต้องการหมอ", "บาดเจ็บ", "ช่วยด้วย"),
                *("डाक्टर", "घाइते", "मद्दत", "उपचार चाहियो"),
            ),
        ),
        (
            INTRUDER,
            (
                "3",
                *("intruder", "someone in the house", "someone at the door", "terrorist"),
                *("מחבל", "מחבלים", "מישהו בבית", "מישהו בדלת", "פורץ"),
                *("مخرب", "مسلح", "شخص في البيت", "شخص عند الباب"),
                *("มีคนในบ้าน", "มีคนที่ประตู", "ผู้บุกรุก", "คนร้าย"),
                *("घरमा कोही छ", "ढोकामा कोही छ", "घुसपैठिया"),
            ),
        ),
        (
            SMOKE,
            (
                "4",
                *("smoke", "fire", "smoke fire"),
                *("עשן", "שריפה", "אש"),
                *("دخان", "حريق", "نار"),
                *("ควัน", "ไฟไหม้", "ไฟ"),
                *("धुवाँ", "आगो", "आगलागी"),
            ),
        ),
        (
            NOT_HOME,
            (
                "5",
                *("not home", "not at home", "away", "we are not home", "not in the house"),
                *("לא בבית", "אנחנו לא בבית", "לא נמצאים בבית"),
                *("لسنا في البيت", "مش في البيت", "لست في البيت", "خارج البيت"),
                *("ไม่อยู่บ้าน", "ไม่ได้อยู่บ้าน"),
                *("घरमा छैनौं", "घरमा छैन", "बाहिर छौं"),
            ),
        ),
    )
    for word in words
}

# Thai replies usually end with a polite particle, written without a space ("ใช่ครับ").
_THAI_PARTICLES = ("ครับ", "คับ", "ค่ะ", "คะ", "ค่า", "จ้ะ", "จ้า", "นะ")
_APOSTROPHES = str.maketrans("", "", "'’‘`´׳")
# Hebrew points and cantillation, Arabic vowel marks and tatweel: written or not, same word.
_POINTS = re.compile("[\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
# Emoji modifiers: skin tones, variation selectors, joiners and the keycap frame of "1️⃣".
_EMOJI_DECORATION = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d\u20e3]")


def responder_answer(text: str) -> Answer | None:
    """ "coming" or "cannot" for a responder's reply, or None when it is not a clear answer."""
    return _first_phrase(text, _LEXICON)


def household_answer(text: str) -> HouseholdAnswer | None:
    """A resident's reply to a broadcast as a check-in status, or None when it is unclear."""
    return _first_phrase(text, _HOUSEHOLD_LEXICON)


def _first_phrase(text: str, lexicon: dict[str, T]) -> T | None:
    words = _words(_normalise(text[:MAX_REPLY_CHARS]))
    # The longest known phrase at the start wins: "not coming" before "not", "1 on my way" = 1.
    for length in range(min(LONGEST_PHRASE_WORDS, len(words)), 0, -1):
        answer = _lookup(" ".join(words[:length]), lexicon)
        if answer is not None:
            return answer
    return None


def _lookup(phrase: str, lexicon: dict[str, T]) -> T | None:
    answer = lexicon.get(phrase)
    if answer is not None:
        return answer
    for particle in _THAI_PARTICLES:
        if phrase.endswith(particle) and len(phrase) > len(particle):
            return lexicon.get(phrase[: -len(particle)].rstrip())
    return None


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_ascii_digit(ch) for ch in text)
    text = text.casefold().translate(_APOSTROPHES).translate(_ARABIC_LETTERS)
    return _EMOJI_DECORATION.sub("", _POINTS.sub("", text))


def _ascii_digit(ch: str) -> str:
    """Arabic-Indic, Persian, Devanagari, Thai... digits as 0-9."""
    if ch.isascii():
        return ch
    value = unicodedata.decimal(ch, None)
    return ch if value is None else str(value)


def _words(text: str) -> list[str]:
    """Runs of letters, marks and digits; each symbol (an emoji) is a word of its own."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        kind = unicodedata.category(ch)[0]
        if kind in "LMN":
            current.append(ch)
            continue
        if current:
            words.append("".join(current))
            current = []
        if kind == "S":
            words.append(ch)
    if current:
        words.append("".join(current))
    return words
