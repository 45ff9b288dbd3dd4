"""Setting and rotating an incident's challenge/password, and the residents' safe word."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from konenut.app.commands import Command
from konenut.app.decisions import Decide
from konenut.app.handlers import in_open_incident, new_event
from konenut.app.identity import Actor
from konenut.domain import challenge as words
from konenut.domain.errors import Conflict
from konenut.domain.event_types import Lang, Word
from konenut.domain.events import NewEvent
from konenut.domain.state import IncidentView, SiteState


class SetChallenge(Command):
    """Both words, or none (then two are generated)."""

    challenge: Word | None = None
    password: Word | None = None
    generate: bool = Field(default=False, description="Generate both words (the default)")
    lang: Lang | None = Field(default=None, description="Default: the site's language")
    grace_mins: int = Field(
        default=words.GRACE_MINS,
        ge=0,
        le=60,
        description="How long the replaced pair still answers",
    )

    @model_validator(mode="after")
    def _both_or_none(self) -> SetChallenge:
        given = (self.challenge is not None) + (self.password is not None)
        if given == 1:
            raise ValueError("give both the challenge and the password, or neither")
        if given and self.generate:
            raise ValueError("give words or generate: true, not both")
        if self.challenge and self.password and words.same_word(self.challenge, self.password):
            raise ValueError("the challenge and the password must differ")
        return self


class RotateChallenge(Command):
    lang: Lang | None = Field(default=None, description="Default: the current pair's language")
    grace_mins: int = Field(default=words.GRACE_MINS, ge=0, le=60)


class SetSafeWord(Command):
    word: Word | None = Field(default=None, description="Default: one generated")
    lang: Lang | None = Field(default=None, description="Default: the site's language")


def _site_lang(state: SiteState) -> str:
    return str((state.site or {}).get("default_language", words.DEFAULT_LANG))


def _squad_words(incident: IncidentView) -> list[str]:
    """The words of the pairs that still answer."""
    pairs = (incident.challenge, incident.previous_challenge)
    return [w for pair in pairs if pair is not None for w in (pair.challenge, pair.password)]


def _in_use(incident: IncidentView) -> list[str]:
    """Words the incident uses now: a new word must not be one of them."""
    return _squad_words(incident) + ([incident.safe_word] if incident.safe_word else [])


def _challenge_event(
    actor: Actor, incident: IncidentView, payload: dict[str, Any], cmd: Command, now: datetime
) -> list[NewEvent]:
    safe = incident.safe_word
    if safe and any(words.same_word(safe, payload[k]) for k in ("challenge", "password")):
        raise Conflict("residents are told the safe word: it cannot be the challenge or password")
    return [new_event("challenge.set", payload, actor=actor, cmd=cmd, now=now, incident=incident)]


def set_challenge(actor: Actor, incident_id: str, cmd: SetChallenge) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        lang = cmd.lang or _site_lang(state)
        generated = cmd.challenge is None
        if cmd.challenge is None or cmd.password is None:
            pair = words.pick_words(lang, 2, avoid=_in_use(incident))
        else:
            pair = [cmd.challenge, cmd.password]
        payload = {
            "challenge": pair[0],
            "password": pair[1],
            "lang": lang,
            "generated": generated,
            "grace_mins": cmd.grace_mins,
        }
        return _challenge_event(actor, incident, payload, cmd, now)

    return in_open_incident(incident_id, inner)


def rotate_challenge(actor: Actor, incident_id: str, cmd: RotateChallenge) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        current = incident.challenge
        lang = cmd.lang or (current.lang if current else _site_lang(state))
        pair = words.pick_words(lang, 2, avoid=_in_use(incident))
        payload = {
            "challenge": pair[0],
            "password": pair[1],
            "lang": lang,
            "generated": True,
            "grace_mins": cmd.grace_mins,
        }
        return _challenge_event(actor, incident, payload, cmd, now)

    return in_open_incident(incident_id, inner)


def set_safe_word(actor: Actor, incident_id: str, cmd: SetSafeWord) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        lang = cmd.lang or _site_lang(state)
        if cmd.word is None:
            word = words.pick_words(lang, 1, avoid=_in_use(incident))[0]
        elif any(words.same_word(cmd.word, w) for w in _squad_words(incident)):
            raise Conflict("the safe word cannot be a word of the challenge or password")
        else:
            word = cmd.word
        if incident.safe_word is not None and words.same_word(incident.safe_word, word):
            return []  # the same word again: nothing changes
        payload = {"word": word, "lang": lang, "generated": cmd.word is None}
        return [
            new_event("safe_word.set", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)


def challenge_view(incident: IncidentView, now: str) -> dict[str, Any]:
    """The current pair and, while it still answers, the one it replaced."""
    previous = incident.previous_challenge
    still = previous is not None and previous.until is not None and previous.until > now
    return {
        "current": incident.challenge.model_dump() if incident.challenge else None,
        "previous": previous.model_dump() if previous is not None and still else None,
        "safe_word": incident.safe_word,
    }
