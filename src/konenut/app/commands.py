"""Command bodies as clients send them: strict, typed, documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from konenut.domain.broadcasts import Area, Group
from konenut.domain.escalation import EscalationPolicy
from konenut.domain.event_types import (
    AssetKind,
    CautionSettings,
    CheckInFields,
    ClockTime,
    CountryCode,
    GuestSettings,
    HouseholdFields,
    Id,
    Lang,
    MusterTemplate,
    Name,
    PersonFields,
    PublicUrl,
    Ref,
    ResponderStatus,
    SightingFields,
    SightingUpdateFields,
    Text,
)
from konenut.domain.events import Location
from konenut.domain.roles import Role, SubjectKind
from konenut.i18n import INSTRUCTION_PREFIX, instructions

Short = Annotated[str, StringConstraints(max_length=500)]
# A phone as people type it (spaces, dashes, a local 05X...); handlers store it in E.164 form
# with the site's country code (domain/phones.py site_phone).
PhoneInput = Annotated[str, StringConstraints(max_length=40)]
PHONE_INPUT_HELP = "E.164 (+972501234567) or as dialled in the site's country (050-123 4567)"


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
    muster_templates: list[MusterTemplate] | None = Field(
        default=None, max_length=30, description="The site's own muster calls (beside built-in)"
    )
    caution: CautionSettings | None = Field(
        default=None, description="How near a threat warns (default: 150 m; converging 50 m)"
    )
    guests: GuestSettings | None = Field(
        default=None,
        description="What one guest poster may bring in: devices per incident, people each, "
        "redemptions a minute per address and per poster (default 30, 20, 10, 20)",
    )
    public_url: PublicUrl | None = Field(
        default=None,
        description="The address phones open, e.g. https://konenut.lan:8443: every link and QR",
    )
    country_code: CountryCode | None = Field(
        default=None,
        description="Dialling code of the site's country (default 972): a phone typed 05X is local",
    )


class AddPerson(Command, PersonFields):
    phone: PhoneInput | None = Field(default=None, description=PHONE_INPUT_HELP)


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
    via: Literal["app", "push"] = Field(
        default="app", description="push: the answer was a notification's action button"
    )


class ReportPosition(Command):
    location: Location
    subject_id: Id | None = Field(default=None, description="Default: the caller")
    callsign: Name | None = None


class ReportSighting(Command, SightingFields):
    location: Location | None = Field(
        default=None, description="Required, but for a resident: default outside its building"
    )


class UpdateSighting(Command, SightingUpdateFields):
    pass


class CheckIn(Command, CheckInFields):
    pass


class SendBroadcast(Command):
    """A template (texts from the catalogues in every language) or custom texts, to every
    household (default), chosen households, the households inside an area, or a group."""

    texts: dict[Lang, Text] | None = Field(
        default=None, min_length=1, description="Custom text per language (or a template)"
    )
    template: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="A broadcast template, e.g. stay_in_safe_room"
    )
    household_ids: list[Id] = Field(default_factory=list, max_length=100_000)
    area: Area | None = Field(
        default=None, description="GeoJSON Polygon (WGS84): households whose building is in it"
    )
    group: Group | None = None

    @model_validator(mode="after")
    def _text_and_one_audience(self) -> SendBroadcast:
        if self.texts is None and self.template is None:
            raise ValueError("give a template or texts")
        if self.template is not None and template_key(self.template) is None:
            raise ValueError(f"no broadcast template {self.template!r}")
        if sum(bool(x) for x in (self.household_ids, self.area, self.group)) > 1:
            raise ValueError("give one audience: household_ids, area or group")
        return self


def template_key(template: str) -> str | None:
    """The catalogue key of a broadcast template named with or without its prefix."""
    key = template if template.startswith(INSTRUCTION_PREFIX) else INSTRUCTION_PREFIX + template
    return key if key in instructions() else None


class SendOrder(Command):
    """To the persons named and the members of the teams named; to all when it names none."""

    text: Text
    to_person_ids: list[Id] = Field(default_factory=list, max_length=5000)
    to_teams: list[Ref] = Field(default_factory=list, max_length=20)


class AcknowledgeOrder(Command):
    person_id: Id | None = Field(default=None, description="Default: the caller")


# --- muster (issue 4) ---------------------------------------------------------------------------
class ActivateSquad(Command):
    """One tap: open (or reuse) the incident and call the squad."""

    template: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")] = (
        "hostile_infiltration"
    )
    text: Short = Field(default="", description="A short text added to the template's")
    incident_id: Id | None = Field(
        default=None, description="Call into this open incident; default: the open real one"
    )
    drill: bool = Field(default=False, description="Open a new drill instead of a real incident")
    rally_point_ref: Ref | None = Field(default=None, description="Default: the template's")
    team: Ref | None = Field(default=None, description="Call only this team")
    person_ids: list[Id] = Field(default_factory=list, max_length=5000)


class MarkMusterSeen(Command):
    muster_id: Id | None = Field(default=None, description="Default: the latest call")
    via: Literal["app", "notification"] = "app"


class SetEscalationPolicy(Command, EscalationPolicy):
    pass


class SetContactPoint(Command):
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Phone (+E.164), Telegram chat id, e-mail...; null removes it"
    )
    quiet_from: ClockTime | None = Field(
        default=None, description="Quiet hours (site time) hold back drills, never real calls"
    )
    quiet_until: ClockTime | None = None

    @model_validator(mode="after")
    def _quiet_hours_in_pairs(self) -> SetContactPoint:
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValueError("quiet hours need both quiet_from and quiet_until")
        return self


class SubscribePush(Command):
    endpoint: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    p256dh: Annotated[str, StringConstraints(min_length=40, max_length=200)]
    auth: Annotated[str, StringConstraints(min_length=16, max_length=100)]
    lang: Lang | None = Field(
        default=None, description="The language chosen on the device: its pushes are in it"
    )


HOLDER_REF = "Instead of the id: the holder's ref, who may be registered later (holder unknown)"


class AddAsset(Command):
    ref: Ref
    kind: AssetKind
    name: Name
    holder_person_id: Id | None = None
    holder_ref: Ref | None = Field(default=None, description=HOLDER_REF)
    opens_ref: Ref | None = None
    needed_at_muster: bool = True


class HandOverAsset(Command):
    holder_person_id: Id | None = Field(default=None, description="null: back in the armory")
    holder_ref: Ref | None = Field(default=None, description=HOLDER_REF)


class RequestAsset(Command):
    text: Short = ""
