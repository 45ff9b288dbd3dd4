"""Reports of people seen on or near the site, and what became of them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, PhotoId
from konenut.domain.events import Payload


class SightingCategory(StrEnum):
    HOSTILE = "hostile"
    UNKNOWN = "unknown"
    FRIENDLY_UNKNOWN = "friendly_unknown"


class SightingStatus(StrEnum):
    REPORTED = "reported"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    MOVED = "moved"
    NEUTRALISED = "neutralised"
    MERGED = "merged"


class SightingFields(BaseModel):
    category: SightingCategory
    count: int = Field(default=1, ge=1, le=500)
    armed: bool | None = None
    vehicle: bool = False
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    text: Annotated[str, StringConstraints(max_length=1000)] = ""
    # SHA-256 ids of photos uploaded first (app/photos.py); the file stays out of the log.
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=4)


class SightingReported(Payload, SightingFields):
    sighting_id: Id
    source: Literal["responder", "war_room", "resident", "camera", "tak"] = "responder"


class SightingUpdateFields(BaseModel):
    status: SightingStatus
    merged_into: Id | None = None
    count: int | None = Field(default=None, ge=1, le=500)
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class SightingUpdated(Payload, SightingUpdateFields):
    sighting_id: Id
