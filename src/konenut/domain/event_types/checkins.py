"""A household's check-in from its safe room."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id
from konenut.domain.events import Payload


class HouseholdStatus(StrEnum):
    SAFE = "safe"
    NEED_MEDIC = "need_medic"
    INTRUDER = "intruder"
    SMOKE = "smoke"
    NOT_HOME = "not_home"


class CheckInFields(BaseModel):
    status: HouseholdStatus
    people_count: int | None = Field(default=None, ge=0, le=500)
    text: Annotated[str, StringConstraints(max_length=500)] = ""
    # With need_medic: how many are hurt and how badly (the worst of them).
    injured_count: int | None = Field(default=None, ge=1, le=500)
    severity: Literal["minor", "serious", "critical"] | None = None


class HouseholdCheckedIn(Payload, CheckInFields):
    household_id: Id
    via: Literal["sms", "telegram"] | None = None  # a reply 1-5 to a broadcast; None: the app
