"""Don't shoot our own: cautions raised or failed, and intruder reports cleared."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from konenut.domain.event_types.checkins import HouseholdStatus
from konenut.domain.event_types.sightings import SightingCategory
from konenut.domain.event_types.vocabulary import Id, Name, Ref, Stamp
from konenut.domain.events import Payload

# What a caution can store (app/caution.py caps counts and lists to these; never drops one).
CAUTION_MAX_PEOPLE = 5000  # people in one building
CAUTION_MAX_COUNT = 500  # a sighting's count
CAUTION_MAX_BUILDINGS = 100  # the nearest buildings named
CAUTION_MAX_UNITS = 300  # units named, and recipients per event (more: several events)


class CautionHouse(BaseModel):
    """Civilians hiding in a building near a threat (a caution's text part). Where an intruder
    is reported, who is known inside: residents, guests and the latest check-in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    building_ref: Ref
    people: int = Field(ge=0, le=CAUTION_MAX_PEOPLE)
    status: HouseholdStatus
    residents: int | None = Field(default=None, ge=0, le=CAUTION_MAX_PEOPLE)
    guests: int | None = Field(default=None, ge=0, le=CAUTION_MAX_PEOPLE)
    checked_in_at: Stamp | None = None


class CautionUnit(BaseModel):
    """A friendly unit a caution is about, and the landmark it is at (a gate, a house)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_id: Id
    callsign: Name | None = None
    near_kind: Literal["gate", "building"] | None = None
    near_ref: Ref | None = None


class CautionRaised(Payload):
    """Don't shoot our own (domain/caution.py): parts, not a sentence, so each page says it in
    its reader's language."""

    caution_id: Id
    kind: Literal["near_civilians", "near_friendly", "converging", "intruder_inside"]
    key: Annotated[str, StringConstraints(min_length=1, max_length=400)]
    sighting_id: Id | None = None
    building_ref: Ref | None = None  # intruder_inside: the building the intruder is in
    category: SightingCategory | None = None
    count: int | None = Field(default=None, ge=1, le=CAUTION_MAX_COUNT)
    building_refs: list[Ref] = Field(default_factory=list, max_length=CAUTION_MAX_BUILDINGS)
    subject_ids: list[Id] = Field(default_factory=list, max_length=CAUTION_MAX_UNITS)
    to_person_ids: list[Id] = Field(min_length=1, max_length=CAUTION_MAX_UNITS)
    civilians: list[CautionHouse] = Field(default_factory=list, max_length=CAUTION_MAX_BUILDINGS)
    friendlies: list[CautionUnit] = Field(default_factory=list, max_length=CAUTION_MAX_UNITS)
    # The same caution again (same caution_id): what is inside changed, or it reaches more units.
    updated: bool | None = None
    spot: dict[str, float] | None = None  # converging: where they would meet {lat, lon}


class CautionFailed(Payload):
    """A caution the rules called for could not be raised (app/caution.py): the war room must
    warn the units nearby another way."""

    reason: Annotated[str, StringConstraints(max_length=300)]
    triggers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=20)
    failures: int = Field(ge=1)  # how many have failed on this server since it started


class IntruderCleared(Payload):
    """An operator cleared the intruder reports at a building (the squad checked it): no longer
    a threat for the caution rules, until someone inside reports an intruder again."""

    building_ref: Ref
    text: Annotated[str, StringConstraints(max_length=300)] = ""
