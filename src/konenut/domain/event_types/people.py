"""The residents' registry: people and households, added and updated."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Lang, Name, Phone, Ref
from konenut.domain.events import Payload
from konenut.domain.roles import Role


def _hebrew() -> list[Lang]:
    return ["he"]


class SafeRoom(StrEnum):
    IN_HOME = "in_home"
    SHARED_SHELTER = "shared_shelter"
    NONE = "none"


class AgeGroup(StrEnum):
    INFANT = "infant"
    CHILD = "child"
    ADULT = "adult"
    ELDERLY = "elderly"


# Field groups shared by a command's body (app/commands.py) and the event it produces.
class PersonFields(BaseModel):
    ref: Ref
    name: Name
    roles: list[Role] = Field(default_factory=list, max_length=9)
    phone: Phone | None = None
    languages: list[Lang] = Field(default_factory=_hebrew, min_length=1, max_length=5)
    household_id: Id | None = None
    callsign: Name | None = None
    age_group: AgeGroup = AgeGroup.ADULT
    special_needs: list[Annotated[str, StringConstraints(max_length=32)]] = Field(
        default_factory=list, max_length=8
    )
    teams: list[Ref] = Field(default_factory=list, max_length=8)


class PersonAdded(Payload, PersonFields):
    person_id: Id


class HouseholdFields(BaseModel):
    ref: Ref
    name: Name
    building_ref: Ref | None = None
    languages: list[Lang] = Field(default_factory=_hebrew, min_length=1, max_length=5)
    safe_room: SafeRoom = SafeRoom.IN_HOME
    foreman_person_ref: Ref | None = None
    pets: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] | None = None


class HouseholdAdded(Payload, HouseholdFields):
    household_id: Id


class HouseholdUpdated(Payload, HouseholdFields):
    """A household's fields as they are now (all of them: the event replaces the last)."""

    household_id: Id


class PersonUpdated(Payload, PersonFields):
    """A person's fields as they are now (all of them: the event replaces the last)."""

    person_id: Id
