"""The challenge and password, and the safe word said at a door."""

from __future__ import annotations

from pydantic import Field, model_validator

from konenut.domain.event_types.vocabulary import Lang, Word
from konenut.domain.events import Payload


class ChallengeSet(Payload):
    """The incident's challenge and password (domain/challenge.py); replaces the last pair,
    which still answers for `grace_mins`."""

    challenge: Word
    password: Word
    lang: Lang = "he"
    generated: bool = False
    grace_mins: int = Field(default=10, ge=0, le=60)

    @model_validator(mode="after")
    def _two_words(self) -> ChallengeSet:
        if self.challenge.casefold() == self.password.casefold():
            raise ValueError("the challenge and the password must differ")
        return self


class SafeWordSet(Payload):
    """The word the squad says at a door, so residents know to open (never guests)."""

    word: Word
    lang: Lang = "he"
    generated: bool = False
