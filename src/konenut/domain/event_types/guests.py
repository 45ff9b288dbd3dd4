"""Guests who checked in by a poster, merged into a household or voided."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.checkins import HouseholdStatus
from konenut.domain.event_types.vocabulary import Id, Lang, Phone, Ref
from konenut.domain.events import Payload


class GuestFields(BaseModel):
    """What a guest tells when checking in by a building's (or the site's) poster."""

    building_ref: Ref | None = None
    people_count: int = Field(default=1, ge=1, le=500)
    language: Lang = "he"
    phone: Phone | None = None
    status: HouseholdStatus = HouseholdStatus.SAFE
    text: Annotated[str, StringConstraints(max_length=500)] = ""


class GuestCheckedIn(Payload, GuestFields):
    guest_id: Id
    pass_id: Id | None = None  # the poster it checked in by (its first check-in only)


class GuestsVoided(Payload):
    """An operator voided what one poster brought in during the incident: these guests leave
    the occupancy board and their devices are revoked (token.revoked, in the same command)."""

    pass_id: Id
    guest_ids: list[Id] = Field(max_length=10_000)
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class GuestMerged(Payload):
    guest_id: Id
    household_id: Id
