"""The event envelope, event-type descriptors and who may see what (contracts §2, §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from konenut.domain.errors import InvalidEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.roles import ROLE_PRECEDENCE, Role

JsonDict = dict[str, Any]


class Location(BaseModel):
    """A WGS84 point with what the device knew about its accuracy and motion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    speed_mps: float | None = Field(default=None, ge=0, le=1_000)


class Payload(BaseModel):
    """Base of every event payload: strict, immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(StrEnum):
    """Which events of a type a role sees."""

    ALL = "all"  # every event of the type in the site
    INCIDENT = "incident"  # events of the token's incident, and site configuration
    OWN = "own"  # events about the token's own subject or household
    # Events addressed to everyone, or to a list of households or persons that holds the
    # token's own (a broadcast to one area, an order to one team, must not reach the others).
    TARGETED = "targeted"


@dataclass(frozen=True)
class Visibility:
    scope: Scope
    hide: frozenset[str] = frozenset()  # payload fields removed before sending
    envelope: bool = True  # False: actor, device and location are removed


@dataclass(frozen=True)
class EventType:
    """A registered event type: name, version, payload schema and audience."""

    name: str
    version: int
    payload: type[Payload]
    audience: Mapping[Role, Visibility]
    # The payload field naming the subject or household the event is about (for Scope.OWN).
    subject_field: str | None = None
    household_field: str | None = None
    # The payload field listing the households an event is addressed to (for Scope.TARGETED).
    targets_field: str | None = None
    # A payload flag that, when true, keeps a targeted event to households (a broadcast that
    # carries the safe word reaches residents, never a guest who scanned a poster).
    households_only_field: str | None = None
    # Payload fields no audience ever receives (secrets' hashes).
    secret_fields: frozenset[str] = frozenset()
    requires_incident: bool = False
    requires_location: bool = False

    def validate(self, payload: Mapping[str, Any]) -> JsonDict:
        """The payload, checked against the schema and normalised to JSON types."""
        try:
            model = self.payload.model_validate(dict(payload))
        except ValidationError as exc:
            errors = [
                {"loc": ".".join(["payload", *map(str, err["loc"])]), "msg": err["msg"]}
                for err in exc.errors()
            ]
            raise InvalidEvent(f"invalid payload for {self.name}", errors) from exc
        return model.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class NewEvent:
    """An event decided by the rules, not yet in the log (no seq, no recorded_at)."""

    type: str
    payload: JsonDict
    occurred_at: datetime
    actor: str | None = None
    device: str | None = None
    incident_id: str | None = None
    location: JsonDict | None = None
    drill: bool = False
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Event:
    """An event as stored in a site's log."""

    site_id: str
    seq: int
    id: str
    type: str
    version: int
    incident_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None
    device: str | None
    location: JsonDict | None
    payload: JsonDict
    drill: bool
    # The times as the log holds them (RFC 3339 text), given by the store for an event it reads
    # or appends: views keep times as this text, and formatting every event's time back was a
    # tenth of a rebuild (bench/rebuild.py) and ran several times per appended event (its row,
    # its answer, each policy and each audience shape on the stream).
    stored_occurred_at: str | None = field(default=None, compare=False, repr=False)
    stored_recorded_at: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_log(cls, fields: JsonDict) -> Event:
        """An event read back from the log, every field given (checked when it was appended):
        made without the frozen dataclass's __init__, whose setattr per field was a tenth of a
        rebuild (bench/rebuild.py)."""
        event = object.__new__(cls)
        event.__dict__.update(fields)
        return event

    @property
    def occurred_text(self) -> str:
        """occurred_at in RFC 3339, as stored and as views keep it."""
        return self.stored_occurred_at or format_time(self.occurred_at)

    @property
    def recorded_text(self) -> str:
        """recorded_at in RFC 3339, as stored."""
        return self.stored_recorded_at or format_time(self.recorded_at)

    def to_json(self) -> JsonDict:
        return {
            "site_id": self.site_id,
            "seq": self.seq,
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "incident_id": self.incident_id,
            "occurred_at": self.occurred_text,
            "recorded_at": self.recorded_text,
            "actor": self.actor,
            "device": self.device,
            "location": self.location,
            "payload": self.payload,
            "drill": self.drill,
        }


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the roles, subject, household and incident of a token."""

    roles: frozenset[Role]
    subject_id: str | None = None
    household_id: str | None = None
    incident_id: str | None = None


def _in_scope(event: Event, etype: EventType, scope: Scope, viewer: Viewer) -> bool:
    if scope is Scope.ALL:
        return True
    if scope is Scope.INCIDENT:
        return event.incident_id is None or event.incident_id == viewer.incident_id
    if scope is Scope.TARGETED:
        targets = event.payload.get(etype.targets_field or "") or []
        in_incident = viewer.incident_id in (None, event.incident_id)
        addressed = viewer.household_id in targets or viewer.subject_id in targets
        for_households = bool(event.payload.get(etype.households_only_field or ""))
        if for_households and viewer.household_id is None:
            return False
        return in_incident and (not targets or addressed)
    if viewer.incident_id is not None and event.incident_id not in (None, viewer.incident_id):
        return False  # an incident-bound token (guest, volunteer) sees nothing of another one
    subject = event.payload.get(etype.subject_field) if etype.subject_field else event.actor
    household = event.payload.get(etype.household_field) if etype.household_field else None
    return (subject is not None and subject == viewer.subject_id) or (
        household is not None and household == viewer.household_id
    )


def shaped(event: Event, etype: EventType, seen: Visibility) -> JsonDict:
    """The event with the fields this visibility hides removed (secrets always are)."""
    body = event.to_json()
    hidden = seen.hide | etype.secret_fields
    body["payload"] = {k: v for k, v in event.payload.items() if k not in hidden}
    if not seen.envelope:
        body["actor"] = body["device"] = body["location"] = None
    return body


def visibility_for(event: Event, etype: EventType, viewer: Viewer) -> Visibility | None:
    """The audience rule this viewer sees the event through, or None when it must not reach them.

    A token with several roles sees through its most capable role that may see the event.
    """
    for role in ROLE_PRECEDENCE:
        seen = etype.audience.get(role)
        if role in viewer.roles and seen and _in_scope(event, etype, seen.scope, viewer):
            return seen
    return None


def record_for(
    record: Mapping[str, Any], etype: EventType, roles: frozenset[Role]
) -> JsonDict | None:
    """A record kept from events of `etype` (a person, a household), as a REST read shows it:
    the fields the roles' most capable audience rule hides removed, as the stream removes them
    from the events; None when no role of them may see such records. Scope is the route's."""
    for role in ROLE_PRECEDENCE:
        seen = etype.audience.get(role)
        if role in roles and seen:
            hidden = seen.hide | etype.secret_fields
            return {k: v for k, v in record.items() if k not in hidden}
    return None


def view_for(event: Event, etype: EventType, viewer: Viewer) -> JsonDict | None:
    """The event as this viewer may see it, or None when it must not reach them.

    The live stream caches `shaped` per visibility instead, so both apply the same rule.
    """
    seen = visibility_for(event, etype, viewer)
    return None if seen is None else shaped(event, etype, seen)
