"""Enrollment codes, enrolled devices, revoked tokens and Web Push subscriptions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Hash, Id, Lang, Stamp
from konenut.domain.events import Payload
from konenut.domain.roles import Role, SubjectKind


class EnrollmentCodeIssued(Payload):
    code_id: Id
    code_hash: Hash
    subject_id: Id
    subject_kind: SubjectKind
    roles: list[Role] = Field(min_length=1, max_length=9)
    incident_id: Id | None = None
    expires_at: Stamp
    token_expires_at: Stamp | None = None


class DeviceEnrolled(Payload):
    token_id: Id
    token_hash: Hash
    subject_id: Id
    subject_kind: SubjectKind
    roles: list[Role] = Field(min_length=1, max_length=9)
    household_id: Id | None = None
    incident_id: Id | None = None
    expires_at: Stamp | None = None
    device_name: Annotated[str, StringConstraints(max_length=100)] = ""
    code_id: Id | None = None


class TokenRevoked(Payload):
    token_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class PushSubscribed(Payload):
    person_id: Id
    token_id: Id
    endpoint: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    p256dh: Annotated[str, StringConstraints(min_length=40, max_length=200)]
    auth: Annotated[str, StringConstraints(min_length=16, max_length=100)]
    lang: Lang | None = None  # the language chosen on the device (None: its owner's)


class PushUnsubscribed(Payload):
    person_id: Id
    token_id: Id
    reason: Annotated[str, StringConstraints(max_length=300)] = ""
