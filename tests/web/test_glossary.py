"""The instruction terms mean the same in every language: docs/residents.md's glossary table,
checked against the texts residents read as instructions."""

from __future__ import annotations

from pathlib import Path

import pytest

from konenut.i18n import LANGUAGES, catalogue

GLOSSARY_DOC = Path(__file__).parents[2] / "docs" / "residents.md"
# The texts a resident reads as an instruction (templates, the page's default, the card).
INSTRUCTION_KEYS = [
    *(k for k in catalogue("en") if k.startswith("instruction.")),
    "resident.default_instruction",
    "card.instructions",
]


def glossary() -> dict[str, dict[str, str]]:
    """{term: {lang: the words every text uses}} from the table under "Instruction terms"."""
    lines = GLOSSARY_DOC.read_text(encoding="utf-8").split("**Instruction terms**", 1)[1]
    rows = [line.strip() for line in lines.splitlines() if line.strip().startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    terms: dict[str, dict[str, str]] = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        terms[cells[0]] = dict(zip(header[1:], cells[1:], strict=True))
    return terms


def test_the_glossary_covers_every_language() -> None:
    terms = glossary()
    assert {"safe room", "war room", "siren", "safe word", "uniform"} <= set(terms)
    for words in terms.values():
        assert sorted(words) == sorted(LANGUAGES)


@pytest.mark.parametrize("key", INSTRUCTION_KEYS)
def test_an_instruction_uses_each_term_in_all_five_languages_or_none(key: str) -> None:
    for term, words in glossary().items():
        using = {lang for lang in LANGUAGES if words[lang].lower() in catalogue(lang)[key].lower()}
        assert using in (set(), set(LANGUAGES)), (
            f"{key}: '{term}' is said in {sorted(using)} but not in "
            f"{sorted(set(LANGUAGES) - using)}"
        )
