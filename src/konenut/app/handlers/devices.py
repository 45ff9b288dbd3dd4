"""Devices: enrollment codes, enrolling a device, revoking devices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import open_incident_of
from konenut.app.handlers.subscriptions import unsubscribe_devices
from konenut.app.identity import Actor, hash_code, hash_secret
from konenut.domain.errors import Conflict, DomainError, Forbidden, NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import SiteState, TokenView

ENROLLMENT_CODE_TTL = timedelta(hours=24)  # contracts §4


def _code_subject(state: SiteState, cmd: c.IssueEnrollmentCode) -> tuple[str, list[Role]]:
    """The subject the code enrols, and the roles its token will carry."""
    kind = cmd.subject_kind
    if kind is SubjectKind.PERSON:
        person = state.persons.get(cmd.subject_id or "")
        if person is None:
            raise NotFound(f"no person {cmd.subject_id}")
        held = [Role(r) for r in person.roles]
        roles = cmd.roles or held
        extra = sorted(set(roles) - set(held))
        if extra:
            raise DomainError(f"{person.name} does not hold the role(s) {', '.join(extra)}")
        if not roles:
            raise DomainError(f"{person.name} has no roles to enrol a device with")
        return person.person_id, roles
    if kind is SubjectKind.HOUSEHOLD:
        if (cmd.subject_id or "") not in state.households:
            raise NotFound(f"no household {cmd.subject_id}")
        return cmd.subject_id or "", [Role.RESIDENT]
    if cmd.incident_id is None:
        raise DomainError(f"a {kind.value} code belongs to an incident: give incident_id")
    open_incident_of(state, cmd.incident_id)
    role = {
        SubjectKind.GUEST: Role.GUEST,
        SubjectKind.VOLUNTEER: Role.VOLUNTEER,
        SubjectKind.LIAISON: Role.LIAISON,
    }[kind]
    return cmd.subject_id or new_id(), [role]


def issue_enrollment_code(actor: Actor | None, cmd: c.IssueEnrollmentCode, code: str) -> Decide:
    code_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        # A commander may hand out incident passes, not lasting squad or household access, nor
        # a pass whose device would act as someone already known (a responder, a household).
        lasting = cmd.subject_kind in (SubjectKind.PERSON, SubjectKind.HOUSEHOLD)
        if actor is not None and Role.ADMIN not in actor.roles:
            if lasting:
                raise DomainError("only an admin issues codes for people and households")
            if cmd.subject_id is not None:
                raise Forbidden("only an admin binds a device to someone already known")
        subject_id, roles = _code_subject(state, cmd)
        if cmd.incident_id is not None:
            open_incident_of(state, cmd.incident_id)
        expires_at = format_time(now + ENROLLMENT_CODE_TTL)
        payload: dict[str, Any] = {
            "code_id": code_id,
            "code_hash": hash_code(state.code_key, code),
            "subject_id": subject_id,
            "subject_kind": cmd.subject_kind.value,
            "roles": [r.value for r in roles],
            "incident_id": cmd.incident_id,
            "expires_at": expires_at,
        }
        if cmd.token_ttl_secs is not None:
            payload["token_expires_at"] = format_time(now + timedelta(seconds=cmd.token_ttl_secs))
        return Decision(
            [new_event("enrollment.code_issued", payload, actor=actor, cmd=cmd, now=now)],
            secrets={"code": code},
            extra={
                "code_id": code_id,
                "expires_at": expires_at,
                "subject_id": subject_id,
                "roles": [r.value for r in roles],
            },
        )

    return decide


def enroll_device(cmd: c.EnrollDevice, token: str) -> Decide:
    token_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        code = state.code_by_hash(hash_code(state.code_key, cmd.code))
        if code is None:
            raise NotFound("this enrollment code is unknown; check it or ask for a new one")
        if code.used_by_token is not None:
            raise Conflict("this enrollment code was already used; ask for a new one")
        if code.expires_at < format_time(now):
            raise Conflict("this enrollment code has expired; ask for a new one")
        household_id = _household_of(state, code.subject_kind, code.subject_id)
        payload: dict[str, Any] = {
            "token_id": token_id,
            "token_hash": hash_secret(token),
            "subject_id": code.subject_id,
            "subject_kind": code.subject_kind,
            "roles": code.roles,
            "household_id": household_id,
            "incident_id": code.incident_id,
            "expires_at": code.token_expires_at,
            "device_name": cmd.device_name,
            "code_id": code.code_id,
        }
        enrolled = NewEvent(
            type="device.enrolled",
            payload={k: v for k, v in payload.items() if v is not None},
            occurred_at=now,
            actor=code.subject_id,
            device=token_id,
        )
        return Decision(
            [enrolled],
            secrets={"token": token},
            extra={
                "token_id": token_id,
                "roles": code.roles,
                "subject_id": code.subject_id,
                "subject_kind": code.subject_kind,
                "household_id": household_id,
                "incident_id": code.incident_id,
                "expires_at": code.token_expires_at,
                "site_id": state.site_id,
            },
        )

    return decide


def _household_of(state: SiteState, subject_kind: str, subject_id: str) -> str | None:
    if subject_kind == SubjectKind.HOUSEHOLD.value:
        return subject_id
    person = state.persons.get(subject_id)
    return person.household_id if person else None


def revoke_device(actor: Actor | None, token_id: str, cmd: c.RevokeDevice) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        token: TokenView | None = state.tokens.get(token_id)
        if token is None:
            raise NotFound(f"no device {token_id}")
        if token.revoked_at is not None:
            return Decision(extra={"revoked_at": token.revoked_at})
        payload = {"token_id": token_id, "reason": cmd.reason}
        revoked = new_event("token.revoked", payload, actor=actor, cmd=cmd, now=now)
        dropped = unsubscribe_devices(state, [token_id], "device revoked", actor=actor, now=now)
        return Decision([revoked, *dropped])

    return decide


def revoke_person_devices(actor: Actor | None, person_id: str, cmd: c.RevokeDevice) -> Decide:
    """Revoke every live device of one person (a captured phone, someone leaving the squad)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        if person_id not in state.persons:
            raise NotFound(f"no person {person_id}")
        live = [t.token_id for t in state.tokens_of(person_id) if t.revoked_at is None]
        events = revoke_tokens(state, live, cmd.reason or "person's devices revoked", actor, now)
        return Decision(events, extra={"revoked": len(live)})

    return decide


def revoke_tokens(
    state: SiteState, token_ids: list[str], reason: str, actor: Actor | None, now: datetime
) -> list[NewEvent]:
    """`token.revoked` for each of these devices, then their push subscriptions dropped."""
    revoked = [
        new_event(
            "token.revoked", {"token_id": t, "reason": reason}, actor=actor, cmd=None, now=now
        )
        for t in token_ids
    ]
    return [*revoked, *unsubscribe_devices(state, token_ids, reason, actor=actor, now=now)]
