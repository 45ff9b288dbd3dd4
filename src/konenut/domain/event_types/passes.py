"""Standing passes (contracts §4): issued, revoked, redeemed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Hash, Id, Name, Ref, Stamp
from konenut.domain.events import Payload
from konenut.domain.roles import Role, SubjectKind

# What a printed or posted pass is for (a liaison pass: app/liaison.py).
PassPurpose = Literal["volunteer_join", "household_card", "guest_poster", "liaison"]


class PassIssued(Payload):
    pass_id: Id
    purpose: PassPurpose
    role: Role
    incident_id: Id | None = None
    household_id: Id | None = None
    building_ref: Ref | None = None  # a guest poster's building (none: site-wide)
    max_devices: int | None = Field(default=None, ge=1, le=100_000)
    expires_at: Stamp | None = None
    code_hash: Hash
    unit_name: Name | None = None  # a liaison pass: the arriving unit it was made for
    radio_code_hash: Hash | None = None  # a liaison pass: its short code, read out by radio


class PassRevoked(Payload):
    pass_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class PassRedeemed(Payload):
    pass_id: Id
    purpose: PassPurpose
    token_id: Id
    subject_id: Id
    subject_kind: SubjectKind
