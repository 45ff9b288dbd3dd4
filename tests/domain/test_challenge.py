"""The word lists and the word picker of domain/challenge.py."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from konenut.domain.challenge import WORDS, pick_words, same_word, words_for

LANGS = sorted(WORDS)


def test_every_language_of_the_demo_has_a_list_of_distinct_short_words() -> None:
    assert set(LANGS) >= {"he", "ar", "en", "th", "ne"}
    for lang, words in WORDS.items():
        assert len(words) >= 30, lang
        assert len({w.casefold() for w in words}) == len(words), f"{lang} repeats a word"
        for word in words:
            assert word == word.strip() and " " not in word and 1 < len(word) <= 12, (lang, word)
            assert unicodedata.normalize("NFC", word) == word, (lang, word)


def test_a_language_without_a_list_gets_hebrew() -> None:
    assert words_for("ru") == WORDS["he"]


@given(st.sampled_from(LANGS), st.integers(1, 3))
def test_picked_words_are_different_and_from_the_list(lang: str, count: int) -> None:
    picked = pick_words(lang, count)
    assert len(set(picked)) == count
    assert set(picked) <= set(WORDS[lang])


@given(st.sampled_from(LANGS), st.data())
def test_picked_words_avoid_the_words_in_use(lang: str, data: st.DataObject) -> None:
    in_use = data.draw(st.lists(st.sampled_from(WORDS[lang]), max_size=5, unique=True))
    picked = pick_words(lang, 2, avoid=[w.upper() for w in in_use])
    assert not set(picked) & set(in_use)


def test_two_generated_pairs_differ() -> None:
    pairs = {tuple(pick_words("en", 2)) for _ in range(20)}
    assert len(pairs) > 1, "the words are random"


def test_with_every_word_in_use_there_are_still_words() -> None:
    assert len(set(pick_words("en", 2, avoid=WORDS["en"]))) == 2


def test_same_word_ignores_case_and_spaces() -> None:
    assert same_word(" Olive", "olive ") and not same_word("olive", "river")
