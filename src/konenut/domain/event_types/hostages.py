"""Households or buildings where people are held, and each update."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Ref
from konenut.domain.events import Payload


class HostageFields(BaseModel):
    household_id: Id | None = None
    building_ref: Ref
    people_inside: int | None = Field(default=None, ge=0, le=500)
    attackers_inside: int | None = Field(default=None, ge=0, le=500)
    contact_channel: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Annotated[str, StringConstraints(max_length=2000)] = ""


class HostageReported(Payload, HostageFields):
    situation_id: Id
    source: Literal["operator", "resident"] = "operator"  # resident: raised from a check-in


class HostageUpdateFields(BaseModel):
    text: Annotated[str, StringConstraints(max_length=2000)] = ""
    people_inside: int | None = Field(default=None, ge=0, le=500)
    attackers_inside: int | None = Field(default=None, ge=0, le=500)
    # None: as before. How the squad reaches whoever is inside can change (a phone dies).
    contact_channel: Annotated[str, StringConstraints(max_length=200)] | None = None
    status: Literal["ongoing", "resolved"] = "ongoing"


class HostageUpdated(Payload, HostageUpdateFields):
    situation_id: Id
