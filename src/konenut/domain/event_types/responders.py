"""What responders say of themselves: their status, their position, a building they enter."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Name, Ref
from konenut.domain.events import Payload


class ResponderStatus(StrEnum):
    NOTIFIED = "notified"
    SEEN = "seen"
    COMING = "coming"
    CANNOT = "cannot"
    EN_ROUTE = "en_route"
    AT_RALLY_POINT = "at_rally_point"
    IN_POSITION = "in_position"
    WOUNDED = "wounded"
    OUT = "out"


# Where an answer came from: the escalator confirms it back on the same channel.
AnswerVia = Literal["app", "push", "sms", "telegram", "tak", "operator"]


class ResponderStatusChanged(Payload):
    person_id: Id
    status: ResponderStatus
    eta_secs: int | None = Field(default=None, ge=0, le=24 * 3600)
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    via: AnswerVia = "app"


class PositionReported(Payload):
    subject_id: Id
    callsign: Name | None = None
    source: Literal["app", "manual", "tak"] = "app"


class ResponderEntering(Payload):
    person_id: Id
    building_ref: Ref
