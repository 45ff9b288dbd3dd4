"""The message catalogues: complete, really translated, in the right script, and every key the
pages and scripts use exists (server and client share the keys)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from konenut import i18n, web
from konenut.domain.event_types import (
    REGISTRY,
    BroadcastSent,
    HouseholdStatus,
    PassPurpose,
    ResponderStatus,
    SightingCategory,
    SightingStatus,
)
from konenut.domain.roles import Role
from konenut.domain.supplies import SupplyKind, SupplyState, Urgency
from konenut.domain.tasks import TaskState
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
    "operator.pass.purpose.": list(get_args(PassPurpose)),
    "operator.bc.sent_to.": list(get_args(BroadcastSent.model_fields["audience"].annotation)),
    # Supplies and tasks (web/static/logistics*.js, field-logistics.js).
    "supply.kind.": [k.value for k in SupplyKind],
    "supply.urgency.": [u.value for u in Urgency],
    "supply.state.": [s.value for s in SupplyState],
    "task.state.": [s.value for s in TaskState],
}
# The operator's timeline (web/static/timeline.js: describe) words every event by its
# `event.<type>` key; a key with placeholders needs the case that fills them.
TIMELINE_SCRIPT = WEB / "static" / "timeline.js"


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
    assert sorted(wanted - set(ENGLISH)) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_registered_event_type_has_timeline_words(lang: str) -> None:
    messages = catalogue(lang)
    assert sorted(f"event.{name}" for name in REGISTRY if f"event.{name}" not in messages) == []


def test_timeline_words_with_placeholders_have_their_case() -> None:
    script = TIMELINE_SCRIPT.read_text(encoding="utf-8")
    told = set(re.findall(r"""\bcase\s+"([\w.]+)":""", script))
    unfilled = [
        name
        for name in REGISTRY
        if PLACEHOLDER.search(ENGLISH.get(f"event.{name}", "")) and name not in told
    ]
    assert unfilled == [], "the timeline would show these events' {placeholders} raw"


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
