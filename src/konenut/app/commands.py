"""Command bodies as clients send them: strict, typed, documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from konenut.domain.event_types import (
    BroadcastFields,
    CheckInFields,
    HouseholdFields,
    Id,
    Lang,
    Name,
    PersonFields,
    Ref,
    ResponderStatus,
    SightingFields,
    SightingUpdateFields,
    Text,
)
from konenut.domain.events import Location
from konenut.domain.roles import Role, SubjectKind

Short = Annotated[str, StringConstraints(max_length=500)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Command(Body):
    """Fields every command may carry: when it happened on the device, and where."""

    occurred_at: datetime | None = Field(
        default=None,
        description="Device time (RFC 3339). Offline reports keep their time; default: now.",
    )
    location: Location | None = None


class ConfigureSite(Command):
    name: Name
    names: dict[Lang, Name] = Field(default_factory=dict)
    default_language: Lang = "he"
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Jerusalem"
    plan: dict[str, object] | None = Field(default=None, description="GeoJSON site plan")


class AddPerson(Command, PersonFields):
    pass


class AddHousehold(Command, HouseholdFields):
    pass


class IssueEnrollmentCode(Command):
    subject_id: Id | None = Field(
        default=None, description="Person or household id; omit for a new guest/volunteer/liaison"
    )
    subject_kind: SubjectKind = SubjectKind.PERSON
    roles: list[Role] = Field(default_factory=list, max_length=9)
    incident_id: Id | None = None
    token_ttl_secs: int | None = Field(default=None, ge=60, le=366 * 24 * 3600)
    language: Lang = "he"


class EnrollDevice(Body):
    code: Annotated[str, StringConstraints(min_length=8, max_length=40)]
    device_name: Annotated[str, StringConstraints(max_length=100)] = ""


class RevokeDevice(Command):
    reason: Short = ""


class OpenIncident(Command):
    title: Name
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "hostile_infiltration"
    drill: bool = False


class CloseIncident(Command):
    summary: Annotated[str, StringConstraints(max_length=2000)] = ""


class CallMuster(Command):
    rally_point_ref: Ref = "R1"
    text: Short = ""
    targets: list[Id] = Field(default_factory=list, max_length=5000)


class ChangeResponderStatus(Command):
    status: ResponderStatus
    person_id: Id | None = Field(default=None, description="Default: the caller")
    eta_secs: int | None = Field(default=None, ge=0, le=24 * 3600)
    note: Short = ""


class ReportPosition(Command):
    location: Location
    subject_id: Id | None = Field(default=None, description="Default: the caller")
    callsign: Name | None = None


class ReportSighting(Command, SightingFields):
    location: Location


class UpdateSighting(Command, SightingUpdateFields):
    pass


class CheckIn(Command, CheckInFields):
    pass


class SendBroadcast(Command, BroadcastFields):
    pass


class SendOrder(Command):
    text: Text
    to_person_ids: list[Id] = Field(default_factory=list, max_length=5000)


class AcknowledgeOrder(Command):
    person_id: Id | None = Field(default=None, description="Default: the caller")
