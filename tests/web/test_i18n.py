"""The message catalogues: complete, really translated, in the right script, and every key the
pages and scripts use exists (server and client share the keys)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from konenut import i18n, web
from konenut.domain.event_types import (
    REGISTRY,
    HouseholdStatus,
    ResponderStatus,
    SightingCategory,
    SightingStatus,
)
from konenut.domain.roles import Role
from konenut.i18n import LANGUAGES, catalogue

WEB = Path(web.__file__).parent
ENGLISH = catalogue("en")
# Characters each language must be written in (at least one per value).
SCRIPTS = {
    "he": re.compile(r"[\u0590-\u05FF]"),
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "th": re.compile(r"[\u0E00-\u0E7F]"),
    "ne": re.compile(r"[\u0900-\u097F]"),
}
# Values that may equal the English one (proper nouns, symbols). Keep this short.
SAME_AS_ENGLISH_ALLOWED: frozenset[str] = frozenset()
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Keys built at run time from a prefix and a value the domain defines.
DYNAMIC_KEYS = {
    "status.": [s.value for s in ResponderStatus],
    "household.": [s.value for s in HouseholdStatus],
    "resident.button.": [s.value for s in HouseholdStatus],
    "sighting.": [s.value for s in SightingCategory],
    "sighting.status.": [s.value for s in SightingStatus],
    "sighting.action.": ["confirmed", "moved", "neutralised", "dismissed", "merged"],
    "role.": [r.value for r in Role],
    "view.": ["operator", "responder", "resident", "registry"],
    "operator.bc.": ["read", "delivered", "failed", "waiting"],  # broadcast-panel.js
    "conn.": ["connecting", "live", "reconnecting", "offline", "unauthorized"],
    # The operator map's tools (web/static/layers.js).
    "map.layer.": [
        *["units", "sightings", "households", "occupancy"],
        *["camera", "gate", "shelter", "zone"],
    ],
    "map.age.": ["all", "10m", "2m"],
    "map.state.": ["safe", "need_help", "danger", "no_answer", "not_home"],
    "map.found.": ["building", "household", "unit"],
}
# Event types the operator's timeline tells in words (the others are not in an incident).
TOLD_EVENTS = [
    name
    for name, etype in REGISTRY.items()
    if etype.requires_incident and name != "position.reported"
]


def used_keys() -> set[str]:
    """Every literal key in the templates ({{t:key}}) and scripts (t("key"))."""
    keys: set[str] = set()
    for path in [*WEB.joinpath("templates").glob("*.html"), *WEB.joinpath("static").glob("*.js")]:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\{\{t:([\w.]+)\}\}", text))
        keys |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", text))
    return keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_has_exactly_the_english_keys(lang: str) -> None:
    messages = catalogue(lang)
    assert sorted(set(ENGLISH) - set(messages)) == [], f"{lang}: missing keys"
    assert sorted(set(messages) - set(ENGLISH)) == [], f"{lang}: keys English does not have"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_values_are_translated_not_copied(lang: str) -> None:
    copied = [
        key
        for key, text in catalogue(lang).items()
        if text == ENGLISH.get(key) and key not in SAME_AS_ENGLISH_ALLOWED
    ]
    assert copied == [], f"{lang}: values identical to English"


@pytest.mark.parametrize("lang", sorted(SCRIPTS))
def test_values_are_written_in_their_script(lang: str) -> None:
    script = SCRIPTS[lang]
    wrong = [key for key, text in catalogue(lang).items() if not script.search(text)]
    assert wrong == [], f"{lang}: values without a single {lang} character"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    differ = {
        key: text
        for key, text in catalogue(lang).items()
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(ENGLISH[key]))
    }
    assert differ == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_values_are_not_empty_and_trimmed(lang: str) -> None:
    bad = [k for k, v in catalogue(lang).items() if not v.strip() or v != v.strip()]
    assert bad == []


def test_every_key_the_pages_use_exists() -> None:
    keys = used_keys()
    assert len(keys) > 100, "the key scan found too little: did the call style change?"
    assert sorted(keys - set(ENGLISH)) == []


def test_every_key_built_at_run_time_exists() -> None:
    wanted = {prefix + value for prefix, values in DYNAMIC_KEYS.items() for value in values}
    wanted |= {f"event.{name}" for name in TOLD_EVENTS}
    assert sorted(wanted - set(ENGLISH)) == []


def test_broadcast_templates_exist_in_every_language() -> None:
    templates = i18n.instructions()
    assert len(templates) >= 4
    for key, texts in templates.items():
        assert set(texts) == set(LANGUAGES), key
        assert len(key) - len(i18n.INSTRUCTION_PREFIX) <= 64  # BroadcastSent.template


def test_language_names_are_in_their_own_script() -> None:
    assert set(i18n.LANGUAGE_NAMES) == set(LANGUAGES)
    for lang, script in SCRIPTS.items():
        assert script.search(i18n.LANGUAGE_NAMES[lang]), lang
