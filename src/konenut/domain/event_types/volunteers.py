"""Volunteers who joined an incident by a pass, and the commander's decision."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Lang, Name, Phone
from konenut.domain.events import Payload


class Affiliation(StrEnum):
    POLICE = "police"
    ARMY = "army"
    MEDIC = "medic"
    CIVILIAN = "civilian"
    OTHER = "other"


class VolunteerFields(BaseModel):
    """What a volunteer tells the commander about themselves when joining."""

    name: Name
    phone: Phone | None = None
    affiliation: Affiliation
    armed: bool
    language: Lang = "he"


class VolunteerJoined(Payload, VolunteerFields):
    volunteer_id: Id
    pass_id: Id


class VolunteerApproved(Payload):
    volunteer_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class VolunteerDeclined(Payload):
    volunteer_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
