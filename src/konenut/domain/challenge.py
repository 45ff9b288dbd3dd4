"""Challenge and password, and the residents' safe word: words that are easy to say and hear."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

# Short concrete nouns, two syllables or so, none sounding like another in its list, none about
# weapons or violence (a word shouted at night must not be mistaken for an alarm).
WORDS: dict[str, tuple[str, ...]] = {
    "he": (
        "זית", "נהר", "תפוז", "ענן", "סלע", "כוכב", "דבש", "ירח", "גשר", "שמש",
        "אגם", "ברוש", "חול", "יער", "פרח", "אריה", "נשר", "לימון", "תמר", "אלון",
        "גפן", "רימון", "מגדל", "שעון", "סוס", "פיל", "ינשוף", "צב", "עוגה", "כינור",
        "תוף", "חלון", "סולם", "כובע", "מטריה", "אבטיח", "גזר", "נמר", "פסנתר", "עוגן",
    ),
    "ar": (
        "زيتون", "نهر", "برتقال", "غيمة", "صخرة", "نجمة", "عسل", "قمر", "جسر", "شمس",
        "بحيرة", "رمل", "غابة", "وردة", "أسد", "نسر", "ليمون", "بلوط", "كمان", "طبل",
        "نافذة", "سلم", "قبعة", "مظلة", "بطيخ", "جزر", "نمر", "شمعة", "مرساة", "موز",
        "سلحفاة", "تفاحة", "رمان", "فيل", "حصان", "بومة",
    ),
    "en": (
        "olive", "river", "orange", "cloud", "rock", "star", "honey", "moon", "bridge", "sun",
        "lake", "cypress", "sand", "forest", "flower", "lion", "eagle", "lemon", "oak", "violin",
        "drum", "window", "ladder", "hat", "umbrella", "melon", "carrot", "tiger", "piano",
        "candle", "anchor", "banana", "pepper", "turtle", "tulip", "apple", "mango", "copper",
        "marble", "owl",
    ),
    "th": (
        "มะกอก", "แม่น้ำ", "ส้ม", "เมฆ", "หิน", "ดาว", "น้ำผึ้ง", "พระจันทร์", "สะพาน",
        "ทะเลสาบ", "ทราย", "ป่า", "ดอกไม้", "สิงโต", "นกอินทรี", "มะนาว", "กลอง", "หน้าต่าง",
        "บันได", "หมวก", "ร่ม", "แตงโม", "แครอท", "เสือ", "เทียน", "สมอ", "กล้วย", "เต่า",
        "ช้าง", "ม้า", "มะม่วง",
    ),
    "ne": (
        "जैतुन", "नदी", "सुन्तला", "बादल", "ढुङ्गा", "तारा", "मह", "चन्द्रमा", "पुल", "सूर्य",
        "ताल", "बालुवा", "जङ्गल", "फूल", "सिंह", "चील", "कागती", "ढोल", "झ्याल", "टोपी",
        "छाता", "गाजर", "बाघ", "मैनबत्ती", "केरा", "कछुवा", "स्याउ", "हात्ती", "घोडा", "आँप",
    ),
}  # fmt: skip
DEFAULT_LANG = "he"
GRACE_MINS = 10  # the previous pair still answers for this long after a rotation


def words_for(lang: str) -> tuple[str, ...]:
    """The word list of a language (Hebrew where the language has none)."""
    return WORDS.get(lang, WORDS[DEFAULT_LANG])


def same_word(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def pick_words(lang: str, count: int, avoid: Collection[str] = ()) -> list[str]:
    """`count` different random words of the language, none of them one of `avoid`."""
    free = [w for w in words_for(lang) if not any(same_word(w, a) for a in avoid)]
    if len(free) < count:  # every word was used: repeats are better than none
        free = list(words_for(lang))
    chosen: list[str] = []
    while len(chosen) < count:
        word = secrets.choice(free)
        if word not in chosen:
            chosen.append(word)
    return chosen


def previous_until(set_at: datetime, grace_mins: int) -> datetime | None:
    """Until when the pair a new one replaces still answers (None: not at all)."""
    return set_at + timedelta(minutes=grace_mins) if grace_mins > 0 else None
