"""Volunteers who were not on the roster: join by a pass, wait for a commander, then serve.

A volunteer's token is bound to the incident of the pass. Until a commander approves it, the
token may only ask for its own status (see `PendingVolunteer`); once approved it has the
volunteer role's rights in that incident, and the incident's end ends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from konenut.app.commands import PHONE_INPUT_HELP, Body, Command, PhoneInput
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of, unsubscribe_devices
from konenut.app.identity import Actor, hash_secret
from konenut.app.passes import redeemable, redemption_events
from konenut.domain.errors import Conflict, NotFound
from konenut.domain.event_types import VolunteerFields
from konenut.domain.events import NewEvent, Viewer
from konenut.domain.ids import new_id
from konenut.domain.phones import site_phone
from konenut.domain.roles import SubjectKind
from konenut.domain.state import SiteState, TokenView, VolunteerView

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"


class RedeemPass(Body, VolunteerFields):
    """A volunteer joining by the pass's code: who they are, as they say it."""

    phone: PhoneInput | None = Field(default=None, description=PHONE_INPUT_HELP)
    code: Annotated[str, StringConstraints(min_length=16, max_length=40)] = Field(
        description="The pass's 16-character code (dashes and spaces are ignored)"
    )


class DecideVolunteer(Command):
    reason: str = Field(default="", max_length=500)


@dataclass(frozen=True)
class PendingVolunteer(Actor):
    """A volunteer's token before a commander approved it: it sees nothing of the squad."""

    awaiting_approval: ClassVar[bool] = True

    @property
    def viewer(self) -> Viewer:
        return Viewer(roles=frozenset(), subject_id=self.subject_id, incident_id=self.incident_id)


def is_pending(state: SiteState, token: TokenView) -> bool:
    """True for the token of a volunteer who joined by a pass and is not approved (yet).

    A volunteer enrolled with a commander's one-time code has no join record: the commander
    who issued the code approved them already.
    """
    if token.subject_kind != SubjectKind.VOLUNTEER.value:
        return False
    volunteer = state.volunteers.get(token.subject_id)
    return volunteer is not None and volunteer.status != APPROVED


def redeem_volunteer_pass(cmd: RedeemPass, token: str) -> Decide:
    """A new volunteer and their device token, pending until a commander approves."""
    token_id = new_id()
    volunteer_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        found = redeemable(state, cmd.code, "volunteer_join", now)
        incident = open_incident_of(state, found.incident_id or "")
        enrolled, audit = redemption_events(
            found,
            token_id=token_id,
            token_hash=hash_secret(token),
            subject_id=volunteer_id,
            subject_kind=SubjectKind.VOLUNTEER.value,
            now=now,
            incident_id=incident.incident_id,
            drill=incident.drill,
        )
        joined = NewEvent(
            type="volunteer.joined",
            payload={
                "volunteer_id": volunteer_id,
                "pass_id": found.pass_id,
                **cmd.model_dump(include=set(VolunteerFields.model_fields), exclude_none=True),
                "phone": site_phone(state, cmd.phone, "body.phone"),
            },
            occurred_at=now,
            actor=volunteer_id,
            device=token_id,
            incident_id=incident.incident_id,
            drill=incident.drill,
        )
        return Decision(
            [enrolled, joined, audit],
            secrets={"token": token},
            extra={
                "token_id": token_id,
                "volunteer_id": volunteer_id,
                "incident_id": incident.incident_id,
                "status": PENDING,
            },
        )

    return decide


def _volunteer_in(state: SiteState, incident_id: str, volunteer_id: str) -> VolunteerView:
    volunteer = state.volunteers.get(volunteer_id)
    if volunteer is None or volunteer.incident_id != incident_id:
        raise NotFound(f"no volunteer {volunteer_id} in this incident")
    return volunteer


def approve(
    actor: Actor | None, incident_id: str, volunteer_id: str, cmd: DecideVolunteer
) -> Decide:
    """One tap: the volunteer gets the volunteer role's rights in this incident."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        volunteer = _volunteer_in(state, incident_id, volunteer_id)
        if volunteer.status == APPROVED:
            return Decision(extra={"status": APPROVED})
        if volunteer.status == DECLINED:
            raise Conflict(f"{volunteer.name} was declined; they may join again with the pass")
        payload = {"volunteer_id": volunteer_id, "reason": cmd.reason}
        event = new_event(
            "volunteer.approved", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return Decision([event], extra={"status": APPROVED})

    return decide


def decline(
    actor: Actor | None, incident_id: str, volunteer_id: str, cmd: DecideVolunteer
) -> Decide:
    """Turn a volunteer away (or dismiss an approved one): their device is revoked at once."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        volunteer = _volunteer_in(state, incident_id, volunteer_id)
        if volunteer.status == DECLINED:
            return Decision(extra={"status": DECLINED})
        payload = {"volunteer_id": volunteer_id, "reason": cmd.reason}
        events = [
            new_event(
                "volunteer.declined", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]
        devices = [
            t.token_id
            for t in list(state.tokens.values())
            if t.subject_id == volunteer_id and t.revoked_at is None
        ]
        for token_id in devices:
            revoked = {"token_id": token_id, "reason": "volunteer declined"}
            events.append(new_event("token.revoked", revoked, actor=actor, cmd=None, now=now))
        events += unsubscribe_devices(state, devices, "device revoked", actor=actor, now=now)
        return Decision(events, extra={"status": DECLINED})

    return decide


def my_volunteer(state: SiteState, actor: Actor) -> dict[str, Any]:
    """The calling volunteer's own standing (a volunteer enrolled by code counts as approved)."""
    volunteer = state.volunteers.get(actor.subject_id)
    if volunteer is None:
        return {
            "volunteer_id": actor.subject_id,
            "status": APPROVED,
            "incident_id": actor.incident_id,
            "name": None,
        }
    return {
        "volunteer_id": volunteer.volunteer_id,
        "status": volunteer.status,
        "incident_id": volunteer.incident_id,
        "name": volunteer.name,
    }


def volunteers_of(state: SiteState, incident_id: str) -> list[dict[str, Any]]:
    """Who joined the incident, pending ones first, then in the order they came."""
    rows = [
        volunteer.model_dump(
            include={
                "volunteer_id",
                "name",
                "phone",
                "affiliation",
                "armed",
                "status",
                "joined_at",
                "decided_at",
            }
        )
        for volunteer in list(state.volunteers.values())
        if volunteer.incident_id == incident_id
    ]
    return sorted(rows, key=lambda r: (r["status"] != PENDING, r["joined_at"]))
