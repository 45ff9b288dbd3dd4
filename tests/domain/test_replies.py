"""A responder's SMS/Telegram reply read as an answer: digits and words in five languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from konenut.domain.replies import responder_answer

COMING = [
    "1",
    " 1 ",
    "1.",
    "1 on my way",
    "١",  # Arabic-Indic
    "۱",  # Eastern Arabic (Persian)
    "१",  # Devanagari
    "๑",  # Thai
    "１",  # full width
    "1️⃣",
    "yes",
    "Yes!",
    "Y",
    "OK",
    "coming",
    "On my way",
    "👍",
    "👍🏽",
    "כן",
    "כן, מגיע",
    "מגיעה",
    "אני בדרך",
    "כֵּן",  # with vowel points
    "نعم",
    "قادم",
    "قادمة",
    "آتٍ",
    "ใช่",
    "ใช่ครับ",
    "มาค่ะ",
    "हो",
    "आउँदैछु",
    "आउँदै छु",
]
CANNOT = [
    "2",
    "2 sorry, abroad",
    "٢",
    "۲",
    "२",
    "๒",
    "no",
    "NO.",
    "n",
    "can't",
    "Can’t come",
    "cannot",
    "not coming",
    "👎",
    "לא",
    "לא יכול",
    "לא מגיעה",
    "لا",
    "لا أستطيع",
    "ไม่",
    "ไม่ได้ค่ะ",
    "ไปไม่ได้ครับ",
    "होइन",
    "सक्दिन",
    "आउन सक्दिन",
]
NEITHER = [
    "",
    "   ",
    "hello",
    "12",
    "3",
    "21",
    "?",
    "maybe",
    "not",
    "who is this?",
    "שלום",
    "مرحبا",
    "สวัสดี",
    "नमस्ते",
    "🙂",
    "/start",
]


@pytest.mark.parametrize("text", COMING)
def test_coming(text: str) -> None:
    assert responder_answer(text) == "coming"


@pytest.mark.parametrize("text", CANNOT)
def test_cannot(text: str) -> None:
    assert responder_answer(text) == "cannot"


@pytest.mark.parametrize("text", NEITHER)
def test_not_an_answer(text: str) -> None:
    assert responder_answer(text) is None


@given(st.text(max_size=300))
def test_any_text_gives_an_answer_or_none(text: str) -> None:
    assert responder_answer(text) in ("coming", "cannot", None)


@given(
    st.sampled_from(["1", "١", "१", "๑"]),
    st.sampled_from([" ", "\n", ". ", ", ", "! "]),
    st.text(max_size=200),
)
def test_a_clear_1_first_is_coming_whatever_follows(one: str, gap: str, rest: str) -> None:
    assert responder_answer(one + gap + rest) == "coming"


@given(st.sampled_from(["2", "٢", "२", "๒"]), st.text(max_size=200))
def test_a_clear_2_first_is_cannot_whatever_follows(two: str, rest: str) -> None:
    assert responder_answer(two + " " + rest) == "cannot"
