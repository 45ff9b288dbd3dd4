"""Guests by a poster: "I am here, N people, in this building" during the open incident (issue 5).

A guest poster is a standing pass per building (or site-wide) that never expires. Redeeming it
during the open real incident makes a new guest and a device token bound to that incident: the
incident's close ends it. Guests occupy buildings on the squad's map until an operator merges
them into a household.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from konenut.app.commands import PHONE_INPUT_HELP, Body, Command, PhoneInput
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of, unsubscribe_devices
from konenut.app.identity import Actor, hash_code, hash_secret
from konenut.app.passes import PassRefused, redeemable, redemption_events
from konenut.domain.errors import Conflict, FieldInvalid, NotFound
from konenut.domain.event_types import GuestFields, GuestSettings, HouseholdStatus, Lang, Ref
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.phones import site_phone
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import GuestView, IncidentView, PassView, SiteState
from konenut.security.qr import format_code

PURPOSE = "guest_poster"


class IssueGuestPoster(Command):
    building_ref: Ref | None = Field(
        default=None, description="The building the poster hangs in; none: a site-wide poster"
    )
    language: Lang = Field(default="he", description="The language of the page the link opens")


class RedeemGuestPoster(Body, GuestFields):
    """A guest checking in by a poster's code: how many, where, which language, a phone."""

    phone: PhoneInput | None = Field(default=None, description=PHONE_INPUT_HELP)
    code: Annotated[str, StringConstraints(min_length=16, max_length=40)] = Field(
        description="The poster's 16-character code (dashes and spaces are ignored)"
    )


class GuestCheckIn(Command):
    status: HouseholdStatus
    people_count: int | None = Field(default=None, ge=1, le=500)
    text: Annotated[str, StringConstraints(max_length=500)] = ""


class MergeGuest(Command):
    household_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class VoidPosterGuests(Command):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class NoOpenIncident(Conflict):
    slug = "no-open-incident"


def _check_building(state: SiteState, building_ref: str | None) -> None:
    known = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
    if building_ref is not None and known is not None and building_ref not in known:
        raise NotFound(f"no building {building_ref!r} on the site plan")


def guest_settings(state: SiteState) -> GuestSettings:
    """The site's [guests] caps, or their defaults."""
    return GuestSettings.model_validate((state.site or {}).get("guests") or {})


def poster_guests(state: SiteState, pass_id: str, incident_id: str) -> list[GuestView]:
    """The guests a poster brought into the incident, voided ones left out."""
    return [
        guest
        for guest in list(state.guests.values())
        if guest.pass_id == pass_id and guest.incident_id == incident_id and not guest.voided_at
    ]


def _check_caps(state: SiteState, found: PassView, incident_id: str, people: int) -> None:
    caps = guest_settings(state)
    if people > caps.max_people_per_guest:
        raise FieldInvalid(
            "body.people_count",
            f"at most {caps.max_people_per_guest} people per check-in by a poster",
        )
    if len(poster_guests(state, found.pass_id, incident_id)) >= caps.max_devices_per_poster:
        raise PassRefused(
            409, "pass-used-up", "this poster was used by as many devices as it may; ask the squad"
        )


def issue_guest_poster(actor: Actor | None, cmd: IssueGuestPoster, code: str) -> Decide:
    """A poster for a building (or the whole site): any number of guests, never expires."""
    pass_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        _check_building(state, cmd.building_ref)
        payload: dict[str, Any] = {
            "pass_id": pass_id,
            "purpose": PURPOSE,
            "role": Role.GUEST.value,
            "code_hash": hash_code(state.code_key, code),
        }
        if cmd.building_ref is not None:
            payload["building_ref"] = cmd.building_ref
        event = new_event("pass.issued", payload, actor=actor, cmd=cmd, now=now)
        return Decision(
            [event],
            secrets={"code": format_code(code)},
            extra={"pass_id": pass_id, "building_ref": cmd.building_ref},
        )

    return decide


def poster_of(state: SiteState, code: str, now: datetime) -> dict[str, Any]:
    """What a guest's page needs before the form: the poster's building, the open incident,
    and how many people one check-in may bring."""
    found = redeemable(state, code, PURPOSE, now)
    incident = state.open_real_incident()
    return {
        "purpose": PURPOSE,
        "building_ref": found.building_ref,
        "incident_open": incident is not None,
        "max_people": guest_settings(state).max_people_per_guest,
    }


def redeem_guest_poster(cmd: RedeemGuestPoster, token: str) -> Decide:
    """A new guest in the open real incident and this device's token, bound to that incident."""
    token_id = new_id()
    guest_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        found = redeemable(state, cmd.code, PURPOSE, now)
        incident = state.open_real_incident()
        if incident is None:
            raise NoOpenIncident("there is no emergency now: nothing to check in to")
        building_ref = cmd.building_ref or found.building_ref
        _check_building(state, building_ref)
        _check_caps(state, found, incident.incident_id, cmd.people_count)
        enrolled, audit = redemption_events(
            found,
            token_id=token_id,
            token_hash=hash_secret(token),
            subject_id=guest_id,
            subject_kind=SubjectKind.GUEST.value,
            now=now,
            incident_id=incident.incident_id,
            drill=incident.drill,
        )
        # The token is bound to the incident: its close ends the guest's access.
        enrolled.payload["incident_id"] = incident.incident_id
        fields = cmd.model_dump(include=set(GuestFields.model_fields), exclude_none=True)
        fields["phone"] = site_phone(state, cmd.phone, "body.phone")
        fields |= {"building_ref": building_ref, "pass_id": found.pass_id}
        checked_in = _guest_event(guest_id, fields, incident, now)
        return Decision(
            [enrolled, checked_in, audit],
            secrets={"token": token},
            extra={
                "token_id": token_id,
                "guest_id": guest_id,
                "roles": [Role.GUEST.value],
                "incident_id": incident.incident_id,
            },
        )

    return decide


def _guest_event(
    guest_id: str, fields: dict[str, Any], incident: IncidentView, now: datetime
) -> NewEvent:
    payload = {"guest_id": guest_id, **{k: v for k, v in fields.items() if v is not None}}
    return NewEvent(
        type="guest.checked_in",
        payload=payload,
        occurred_at=now,
        actor=guest_id,
        incident_id=incident.incident_id,
        drill=incident.drill,
    )


def my_guest(state: SiteState, actor: Actor) -> dict[str, Any]:
    """The calling guest's own check-in (a guest enrolled by code has none until it taps)."""
    guest = state.guests.get(actor.subject_id)
    if guest is None:
        return {"guest_id": actor.subject_id, "incident_id": actor.incident_id, "status": None}
    return guest.model_dump()


def guest_in(state: SiteState, incident_id: str, guest_id: str) -> GuestView:
    guest = state.guests.get(guest_id)
    if guest is None or guest.incident_id != incident_id:
        raise NotFound(f"no guest {guest_id} in this incident")
    return guest


def _guest_or_first(
    state: SiteState, actor: Actor, incident: IncidentView, guest_id: str
) -> GuestView | None:
    """The guest; None for a guest enrolled with a commander's code who checks in first."""
    if guest_id in state.guests or actor.subject_id != guest_id:
        return guest_in(state, incident.incident_id, guest_id)
    if actor.subject_kind is not SubjectKind.GUEST:
        raise NotFound(f"no guest {guest_id} in this incident")
    return None


def check_in_guest(actor: Actor, incident_id: str, guest_id: str, cmd: GuestCheckIn) -> Decide:
    """A guest's own status tap (or an operator's for them): the same place, a new status."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        guest = _guest_or_first(state, actor, incident, guest_id)
        cap = guest_settings(state).max_people_per_guest
        if actor.subject_kind is SubjectKind.GUEST and (cmd.people_count or 0) > cap:
            raise FieldInvalid("body.people_count", f"at most {cap} people per guest check-in")
        payload: dict[str, Any] = {
            "guest_id": guest_id,
            "building_ref": guest.building_ref if guest else None,
            "people_count": cmd.people_count or (guest.people_count if guest else 1),
            "language": guest.language if guest else None,
            "phone": guest.phone if guest else None,
            "status": cmd.status.value,
            "text": cmd.text,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        event = new_event(
            "guest.checked_in", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return Decision([event])

    return decide


def merge_guest(actor: Actor, incident_id: str, guest_id: str, cmd: MergeGuest) -> Decide:
    """The guest is (with) a household the squad knows: the map shows the household instead."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        guest = guest_in(state, incident_id, guest_id)
        if cmd.household_id not in state.households:
            raise NotFound(f"no household {cmd.household_id}")
        if guest.merged_into == cmd.household_id:
            return Decision(extra={"merged_into": cmd.household_id})
        if guest.merged_into is not None:
            raise Conflict("this guest was merged into another household already")
        payload = {"guest_id": guest_id, "household_id": cmd.household_id}
        event = new_event("guest.merged", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        return Decision([event], extra={"merged_into": cmd.household_id})

    return decide


def void_poster_guests(
    actor: Actor, incident_id: str, pass_id: str, cmd: VoidPosterGuests
) -> Decide:
    """Everyone a poster brought into the incident, off the board in one tap: the guests are
    voided and their devices revoked (their push subscriptions with them)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        found = state.passes.get(pass_id)
        if found is None or found.purpose != PURPOSE:
            raise NotFound(f"no guest poster {pass_id}")
        guest_ids = [g.guest_id for g in poster_guests(state, pass_id, incident_id)]
        if not guest_ids:
            return Decision(extra={"voided": 0})
        payload = {"pass_id": pass_id, "guest_ids": guest_ids, "reason": cmd.reason}
        voided = new_event(
            "guests.voided", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        token_ids = _live_tokens(state, set(guest_ids))
        reason = cmd.reason or "guest poster voided"
        revoked = [
            new_event(
                "token.revoked",
                {"token_id": token_id, "reason": reason},
                actor=actor,
                cmd=None,
                now=now,
            )
            for token_id in token_ids
        ]
        dropped = unsubscribe_devices(state, token_ids, reason, actor=actor, now=now)
        return Decision([voided, *revoked, *dropped], extra={"voided": len(guest_ids)})

    return decide


def _live_tokens(state: SiteState, subject_ids: set[str]) -> list[str]:
    return [
        token.token_id
        for token in list(state.tokens.values())
        if token.subject_id in subject_ids and token.revoked_at is None
    ]


def guests_of(state: SiteState, incident_id: str, *, with_phone: bool) -> list[dict[str, Any]]:
    """The incident's guests in the order they came, each with its poster (`pass_id`,
    `poster_ref`: its building, none for a site-wide one); merged ones say into which
    household; voided ones are gone."""
    hide = set() if with_phone else {"phone"}
    rows = [
        {**guest.model_dump(exclude=hide), "poster_ref": _poster_ref(state, guest.pass_id)}
        for guest in list(state.guests.values())
        if guest.incident_id == incident_id and guest.voided_at is None
    ]
    return sorted(rows, key=lambda r: str(r["checked_in_at"]))


def _poster_ref(state: SiteState, pass_id: str | None) -> str | None:
    poster = state.passes.get(pass_id) if pass_id else None
    return poster.building_ref if poster else None
