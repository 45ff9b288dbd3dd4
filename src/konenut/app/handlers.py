"""Command handlers: each turns a command into a `Decide` that the store's writer runs.

A `Decide` sees the site's state as of the moment it runs, inside the writer, so rules
such as "one open real incident" hold even when commands race.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.identity import Actor, hash_code, hash_secret
from konenut.domain import broadcasts
from konenut.domain.errors import Conflict, DomainError, Forbidden, InvalidEvent, NotFound
from konenut.domain.events import Location, NewEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.on_site import POSITION_MARGIN_M, SIGHTING_MARGIN_M, check_on_site
from konenut.domain.phones import site_phone
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.sightings import check_update, reporter_source
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature, plan_refs
from konenut.domain.state import IncidentView, SiteState, TokenView
from konenut.i18n import INSTRUCTION_PREFIX, catalogue, instructions

ENROLLMENT_CODE_TTL = timedelta(hours=24)  # contracts §4


def new_event(
    type_: str,
    payload: dict[str, Any],
    *,
    actor: Actor | None,
    cmd: c.Command | None,
    now: datetime,
    incident: IncidentView | None = None,
) -> NewEvent:
    return NewEvent(
        type=type_,
        payload=payload,
        occurred_at=(cmd.occurred_at if cmd and cmd.occurred_at else now),
        actor=actor.subject_id if actor else None,
        device=actor.token_id if actor else None,
        incident_id=incident.incident_id if incident else None,
        location=cmd.location.model_dump(exclude_none=True) if cmd and cmd.location else None,
        drill=incident.drill if incident else False,
    )


def open_incident_of(state: SiteState, incident_id: str) -> IncidentView:
    """The incident, which must exist and be open."""
    incident = state.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if not incident.is_open:
        raise Conflict(f"incident {incident.ref} is closed")
    return incident


def plan_building(state: SiteState, building_ref: str) -> None:
    """NotFound unless the site plan has this building (a site with no plan has none)."""
    known = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
    if known is None or building_ref not in known:
        raise NotFound(f"no building {building_ref!r} on the site plan")


def _subject_person(state: SiteState, actor: Actor, person_id: str | None) -> str:
    person_id = person_id or actor.subject_id
    if person_id not in state.persons and actor.subject_kind is SubjectKind.PERSON:
        raise NotFound(f"no person {person_id}")
    return person_id


# --- site configuration ---------------------------------------------------------------------
def configure_site(actor: Actor | None, cmd: c.ConfigureSite) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        # Fields left out keep their current value. Each event carries the whole configuration
        # but the plan, which is large: it is sent, and stored, only when it changes.
        # Only top-level fields are "given"; inside them defaults count (a template's rally point).
        dumped = cmd.model_dump(exclude={"occurred_at", "location"})
        given = {k: v for k, v in dumped.items() if k in cmd.model_fields_set}
        current = state.site or {}
        if state.site is not None and all(current.get(k) == v for k, v in given.items()):
            return Decision()  # nothing changed
        payload = {k: v for k, v in current.items() if k != "plan"} | given
        return Decision([new_event("site.configured", payload, actor=actor, cmd=cmd, now=now)])

    return decide


def add_person(actor: Actor | None, cmd: c.AddPerson, person_id: str | None = None) -> Decide:
    person_id = person_id or new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        if state.person_by_ref(cmd.ref) is not None:
            raise Conflict(f"a person with ref {cmd.ref!r} already exists")
        if cmd.household_id and cmd.household_id not in state.households:
            raise NotFound(f"no household {cmd.household_id}")
        payload = {
            "person_id": person_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}),
            "phone": site_phone(state, cmd.phone, "body.phone"),
        }
        return Decision(
            [new_event("person.added", payload, actor=actor, cmd=cmd, now=now)],
            extra={"person_id": person_id},
        )

    return decide


def add_household(
    actor: Actor | None, cmd: c.AddHousehold, household_id: str | None = None
) -> Decide:
    household_id = household_id or new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        if state.household_by_ref(cmd.ref) is not None:
            raise Conflict(f"a household with ref {cmd.ref!r} already exists")
        buildings = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
        if cmd.building_ref and buildings is not None and cmd.building_ref not in buildings:
            raise NotFound(f"no building {cmd.building_ref!r} on the site plan")
        payload = {
            "household_id": household_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return Decision(
            [new_event("household.added", payload, actor=actor, cmd=cmd, now=now)],
            extra={"household_id": household_id},
        )

    return decide


# --- identity ---------------------------------------------------------------------------------
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


def unsubscribe_devices(
    state: SiteState, token_ids: Iterable[str], reason: str, *, actor: Actor | None, now: datetime
) -> list[NewEvent]:
    """`push.unsubscribed` for each of these devices that has a push subscription: whatever
    stops a device working (revocation, its incident closing) drops its subscription in the
    same command, so no later call or broadcast (which may carry the safe word) reaches it."""
    events: list[NewEvent] = []
    for token_id in dict.fromkeys(token_ids):
        subscription = state.push_subscriptions.get(token_id)
        if subscription is None:
            continue
        payload = {"person_id": subscription.person_id, "token_id": token_id, "reason": reason}
        events.append(new_event("push.unsubscribed", payload, actor=actor, cmd=None, now=now))
    return events


# --- incidents --------------------------------------------------------------------------------
def open_incident(actor: Actor | None, cmd: c.OpenIncident) -> Decide:
    incident_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        current = state.open_real_incident()
        if not cmd.drill and current is not None:
            raise Conflict(f"incident {current.ref} ({current.title}) is already open")
        payload = {
            "incident_id": incident_id,
            "ref": str(len(state.incidents) + 1),
            "title": cmd.title,
            "kind": cmd.kind,
        }
        event = new_event("incident.opened", payload, actor=actor, cmd=cmd, now=now)
        event = NewEvent(**{**event.__dict__, "incident_id": incident_id, "drill": cmd.drill})
        return Decision([event], extra={"incident_id": incident_id})

    return decide


def close_incident(actor: Actor | None, incident_id: str, cmd: c.CloseIncident) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        payload = {"incident_id": incident_id, "summary": cmd.summary}
        closed = new_event(
            "incident.closed", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        bound = [t.token_id for t in list(state.tokens.values()) if t.incident_id == incident_id]
        dropped = unsubscribe_devices(state, bound, "incident closed", actor=actor, now=now)
        return Decision([closed, *dropped])

    return decide


IncidentDecide = Callable[[SiteState, IncidentView, datetime], list[NewEvent]]


def in_open_incident(
    incident_id: str, inner: IncidentDecide, extra: dict[str, Any] | None = None
) -> Decide:
    """A Decide for a command inside an open incident."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        return Decision(inner(state, incident, now), extra=extra or {})

    return decide


def call_muster(actor: Actor, incident_id: str, cmd: c.CallMuster) -> Decide:
    muster_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [p for p in cmd.targets if p not in state.persons]
        if unknown:
            raise NotFound(f"no person(s) {', '.join(unknown[:5])}")
        payload = {
            "muster_id": muster_id,
            "rally_point_ref": cmd.rally_point_ref,
            "text": cmd.text,
            "targets": cmd.targets,
        }
        return [
            new_event("muster.called", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"muster_id": muster_id})


def change_responder_status(actor: Actor, incident_id: str, cmd: c.ChangeResponderStatus) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        person_id = _subject_person(state, actor, cmd.person_id)
        payload = {
            "person_id": person_id,
            "status": cmd.status.value,
            "eta_secs": cmd.eta_secs,
            "note": cmd.note,
            "via": cmd.via,
        }
        return [
            new_event(
                "responder.status_changed",
                payload,
                actor=actor,
                cmd=cmd,
                now=now,
                incident=incident,
            )
        ]

    return in_open_incident(incident_id, inner)


def report_position(actor: Actor, incident_id: str, cmd: c.ReportPosition) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        subject_id = cmd.subject_id or actor.subject_id
        check_on_site(state.site, cmd.location, "body.location", POSITION_MARGIN_M)
        person = state.persons.get(subject_id)
        if person is None and subject_id != actor.subject_id:
            raise NotFound(f"no person {subject_id}")  # a unit placed by hand is a person
        callsign = cmd.callsign or (person.callsign if person else None)
        payload = {
            "subject_id": subject_id,
            "callsign": callsign,
            "source": "app" if subject_id == actor.subject_id else "manual",
        }
        return [
            new_event(
                "position.reported", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner)


class LocationRequired(InvalidEvent):
    """A sighting with no place, from someone who has no building to default to."""

    slug = "validation-error"

    def __init__(self) -> None:
        errors = [{"loc": "body.location", "msg": "Field required"}]
        super().__init__("body.location: Field required", errors)


def _outside(state: SiteState, actor: Actor) -> Location:
    """Where a resident who says "outside my house" is: the middle of its building."""
    household = state.households.get(actor.household_id or "")
    plan = (state.site or {}).get("plan")
    building = (
        find_feature(plan, [FeatureKind.BUILDING], household.building_ref)
        if household is not None and household.building_ref
        else None
    )
    if building is not None:
        lon, lat = feature_point(building["geometry"])
        return Location(lat=lat, lon=lon)
    raise LocationRequired()


def report_sighting(actor: Actor, incident_id: str, cmd: c.ReportSighting) -> Decide:
    sighting_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        check_on_site(state.site, cmd.location, "body.location", SIGHTING_MARGIN_M)
        payload = {
            "sighting_id": sighting_id,
            "source": reporter_source(actor.roles),
            **cmd.model_dump(exclude={"occurred_at", "location"}),
        }
        where = cmd if cmd.location else cmd.model_copy(update={"location": _outside(state, actor)})
        return [
            new_event(
                "sighting.reported", payload, actor=actor, cmd=where, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner, {"sighting_id": sighting_id})


def update_sighting(
    actor: Actor, incident_id: str, sighting_id: str, cmd: c.UpdateSighting
) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        if sighting_id not in incident.sightings:
            raise NotFound(f"no sighting {sighting_id} in incident {incident.ref}")
        if cmd.merged_into is not None and cmd.merged_into not in incident.sightings:
            raise NotFound(f"no sighting {cmd.merged_into} to merge into")
        check_update(incident, sighting_id, cmd.status, cmd.merged_into, cmd.location is not None)
        check_on_site(state.site, cmd.location, "body.location", SIGHTING_MARGIN_M)
        payload = {
            "sighting_id": sighting_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return [
            new_event("sighting.updated", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)


def check_in(actor: Actor, incident_id: str, household_id: str, cmd: c.CheckIn) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        if household_id not in state.households:
            raise NotFound(f"no household {household_id}")
        payload = {
            "household_id": household_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return [
            new_event(
                "household.checked_in", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner)


def send_broadcast(actor: Actor, incident_id: str, cmd: c.SendBroadcast) -> Decide:
    broadcast_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [h for h in cmd.household_ids if h not in state.households]
        if unknown:
            raise NotFound(f"no household(s) {', '.join(unknown[:5])}")
        payload = {
            "broadcast_id": broadcast_id,
            **cmd.model_dump(
                exclude={"occurred_at", "location", "area", "group"}, exclude_none=True
            ),
            **broadcasts.audience_fields(state, cmd.area, cmd.group, cmd.household_ids),
        }
        key = c.template_key(cmd.template) if cmd.template else None
        if key is not None:
            payload["template"] = key.removeprefix(INSTRUCTION_PREFIX)
            if cmd.texts is None:
                payload["texts"] = instructions()[key]
                if key == SAFE_WORD_TEMPLATE and incident.safe_word:
                    payload["texts"] = _with_safe_word(payload["texts"], incident.safe_word)
                    payload["carries_safe_word"] = True  # households only: never guests
        if cmd.texts is not None and key is None:
            payload["translated"] = sorted(cmd.texts)  # custom words: only these were written
        return [
            new_event("broadcast.sent", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"broadcast_id": broadcast_id})


SAFE_WORD_TEMPLATE = INSTRUCTION_PREFIX + "safe_word"


def _with_safe_word(texts: dict[str, str], word: str) -> dict[str, str]:
    """The safe-word instruction with the word itself first, in each language (an SMS cut to
    one segment loses the end of the instruction, never the word)."""
    says = {lang: catalogue(lang)["resident.safe_word"].format(word=word) for lang in texts}
    return {lang: f"{says[lang]}. {text}" for lang, text in texts.items()}


def send_order(actor: Actor, incident_id: str, cmd: c.SendOrder) -> Decide:
    order_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [p for p in cmd.to_person_ids if p not in state.persons]
        if unknown:
            raise NotFound(f"no person(s) {', '.join(unknown[:5])}")
        # A team's members as they are now: whoever joins the team later did not get the order.
        recipients = list(dict.fromkeys(cmd.to_person_ids))
        for team in cmd.to_teams:
            members = [p.person_id for p in list(state.persons.values()) if team in p.teams]
            if not members:
                raise NotFound(f"no team {team!r} (nobody is in it)")
            recipients += [m for m in members if m not in recipients]
        payload = {"order_id": order_id, "text": cmd.text, "to_person_ids": recipients}
        if cmd.to_teams:
            payload["to_teams"] = cmd.to_teams
        return [new_event("order.sent", payload, actor=actor, cmd=cmd, now=now, incident=incident)]

    return in_open_incident(incident_id, inner, {"order_id": order_id})


def acknowledge_order(
    actor: Actor, incident_id: str, order_id: str, cmd: c.AcknowledgeOrder
) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        order = incident.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id} in incident {incident.ref}")
        person_id = _subject_person(state, actor, cmd.person_id)
        if order.to_person_ids and person_id not in order.to_person_ids:
            raise NotFound(f"no order {order_id} for this person")  # they never received it
        if person_id in order.acknowledged_by:
            return []  # already acknowledged: nothing changes
        payload = {"order_id": order_id, "person_id": person_id}
        return [
            new_event(
                "order.acknowledged", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner)


# --- audit -------------------------------------------------------------------------------------
def record_denial(
    actor: Actor | None,
    operation: str,
    reason: str,
    count: int = 1,
    first_at: str | None = None,
) -> Decide:
    """`audit.access_denied`: one refusal, or `count` of them since `first_at` (api/denials.py
    aggregates them per token and operation per minute)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {
            "operation": operation,
            "reason": reason,
            "token_id": actor.token_id if actor else None,
            "count": count if count > 1 else None,
            "first_at": first_at,
        }
        return Decision(
            [
                new_event(
                    "audit.access_denied",
                    {k: v for k, v in payload.items() if v},
                    actor=actor,
                    cmd=None,
                    now=now,
                )
            ]
        )

    return decide


def record_guessing(code_space: str, failures: int, window_secs: int) -> Decide:
    """`code_guessing.detected`: an alarm for those who run the squad, on the open incident's
    timeline when there is one (api/passes.py raises it)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {"code_space": code_space, "failures": failures, "window_secs": window_secs}
        incident = state.open_real_incident()
        alarm = new_event(
            "code_guessing.detected", payload, actor=None, cmd=None, now=now, incident=incident
        )
        return Decision([alarm])

    return decide


def record_registry_export(
    actor: Actor | None, fmt: str, households: int, people: int, via: str
) -> Decide:
    """`audit.registry_exported`: residents' names and phones left the system."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {"format": fmt, "households": households, "people": people, "via": via}
        event = new_event("audit.registry_exported", payload, actor=actor, cmd=None, now=now)
        return Decision([event])

    return decide


def record_export(actor: Actor | None, incident_id: str | None, count: int, via: str) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        payload: dict[str, Any] = {"format": "jsonl", "event_count": count, "via": via}
        if incident_id:
            payload["incident_id"] = incident_id
        return Decision([new_event("audit.log_exported", payload, actor=actor, cmd=None, now=now)])

    return decide
