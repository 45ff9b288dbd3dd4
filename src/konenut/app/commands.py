"""Command bodies as clients send them: strict, typed, documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from konenut.domain.event_types import (
    AgeGroup,
    HouseholdStatus,
    Id,
    Lang,
    Name,
    Phone,
    Ref,
    ResponderStatus,
    SafeRoom,
    SightingCategory,
    SightingStatus,
    Text,
)
from konenut.domain.events import Location
from konenut.domain.roles import Role, SubjectKind

Short = Annotated[str, StringConstraints(max_length=500)]


def _hebrew() -> list[Lang]:
    return ["he"]


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


class AddPerson(Command):
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


class AddHousehold(Command):
    ref: Ref
    name: Name
    building_ref: Ref | None = None
    languages: list[Lang] = Field(default_factory=_hebrew, min_length=1, max_length=5)
    safe_room: SafeRoom = SafeRoom.IN_HOME


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


class ReportSighting(Command):
    location: Location
    category: SightingCategory
    count: int = Field(default=1, ge=1, le=500)
    armed: bool | None = None
    vehicle: bool = False
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    text: Annotated[str, StringConstraints(max_length=1000)] = ""


class UpdateSighting(Command):
    status: SightingStatus
    merged_into: Id | None = None
    count: int | None = Field(default=None, ge=1, le=500)
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class CheckIn(Command):
    status: HouseholdStatus
    people_count: int | None = Field(default=None, ge=0, le=500)
    text: Short = ""


class SendBroadcast(Command):
    texts: dict[Lang, Text] = Field(min_length=1)
    template: Annotated[str, StringConstraints(max_length=64)] | None = None
    household_ids: list[Id] = Field(default_factory=list, max_length=100_000)


class SendOrder(Command):
    text: Text
    to_person_ids: list[Id] = Field(default_factory=list, max_length=5000)


class AcknowledgeOrder(Command):
    person_id: Id | None = Field(default=None, description="Default: the caller")
