"""Casualties: reporting one, triage, treatment, assigning a medic, moving it to a collection
point, how it ends; and opening one from a "need a medic" check-in or a `wounded` status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from konenut.app.commands import Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.identity import Actor
from konenut.domain import casualties as rules
from konenut.domain.errors import Conflict, FieldInvalid, NotFound
from konenut.domain.event_types import Id, Ref, Text
from konenut.domain.event_types.casualties import (
    CasualtyFields,
    CasualtyState,
    Note,
    TreatmentKind,
    TriageCategory,
)
from konenut.domain.events import Event, NewEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.on_site import check_on_site
from konenut.domain.roles import Role
from konenut.domain.rules import MAX_FUTURE_SKEW
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import IncidentView, SiteState
from konenut.domain.state.casualties import CasualtyView

# A wounded person just outside the fence is still ours to reach; farther is a wrong tap.
CASUALTY_MARGIN_M = 300.0


# What a command on one casualty makes of it: the events' types and payloads.
Made = list[tuple[str, dict[str, Any]]]
Changes = Callable[[SiteState, CasualtyView, datetime], Made]


class ReportCasualty(Command, CasualtyFields):
    """A casualty where the reporter is, on the map (location) or in a house (building_ref)."""


class TriageCasualty(Command):
    category: TriageCategory
    injuries: list[Text] = Field(default_factory=list, max_length=20)
    note: Note = ""


class TreatCasualty(Command):
    treatment: TreatmentKind
    applied_at: datetime = Field(description="When it was applied (a tourniquet's time)")
    note: Note = ""


class AssignCasualty(Command):
    medic_id: Id
    tell_household: bool = Field(
        default=False, description="Let the casualty's household see the medic's name"
    )


class ChangeCasualtyState(Command):
    state: Literal["treating", "handed_over", "evacuated", "died"]
    note: Note = ""


class MoveCasualty(Command):
    collection_point_ref: Ref


def _casualty_of(incident: IncidentView, casualty_id: str) -> CasualtyView:
    casualty = incident.casualties.get(casualty_id)
    if casualty is None:
        raise NotFound(f"no casualty {casualty_id} in incident {incident.ref}")
    return casualty


def _linked(casualty: CasualtyView, medic_ids: Iterable[str | None] = ()) -> dict[str, Any]:
    """What every event of a casualty carries: its id, its household, the medics it is for."""
    medics = [m for m in dict.fromkeys([casualty.medic_id, *medic_ids]) if m is not None]
    linked: dict[str, Any] = {"casualty_id": casualty.casualty_id, "medic_ids": medics}
    if casualty.household_id is not None:
        linked["household_id"] = casualty.household_id
    return linked


def _check_plan_ref(state: SiteState, kind: FeatureKind, ref: str | None, field: str) -> None:
    known = plan_refs((state.site or {}).get("plan"), kind)
    if ref is not None and known is not None and ref not in known:
        raise FieldInvalid(field, f"no {kind.value.replace('_', ' ')} {ref!r} on the site plan")


def report_casualty(actor: Actor | None, incident_id: str, cmd: ReportCasualty) -> Decide:
    casualty_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        if cmd.location is None and cmd.building_ref is None:
            raise FieldInvalid("body.location", "say where: a location or a building_ref")
        check_on_site(state.site, cmd.location, "body.location", CASUALTY_MARGIN_M)
        _check_plan_ref(state, FeatureKind.BUILDING, cmd.building_ref, "body.building_ref")
        payload = {
            "casualty_id": casualty_id,
            "tag": rules.tag_number(list(state.incidents.values())),
            "source": "squad",
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return [
            new_event(
                "casualty.reported", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner, {"casualty_id": casualty_id})


def _change(
    actor: Actor,
    incident_id: str,
    casualty_id: str,
    cmd: Command,
    changes: Changes,
) -> Decide:
    """A command on one casualty by someone allowed to change it (rules.check_may_change)."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        casualty = _casualty_of(incident, casualty_id)
        rules.check_may_change(casualty, actor.roles, actor.subject_id)
        made = changes(state, casualty, now)
        return [
            new_event(type_, payload, actor=actor, cmd=cmd, now=now, incident=incident)
            for type_, payload in made
        ]

    return in_open_incident(incident_id, inner)


def triage_casualty(
    actor: Actor, incident_id: str, casualty_id: str, cmd: TriageCasualty
) -> Decide:
    def changes(_s: SiteState, casualty: CasualtyView, _now: datetime) -> Made:
        if not rules.is_open(casualty):
            raise Conflict(f"casualty {casualty.tag} is {casualty.state}; triage is over")
        fields = cmd.model_dump(exclude={"occurred_at", "location"})
        return [("casualty.triaged", {**_linked(casualty), **fields})]

    return _change(actor, incident_id, casualty_id, cmd, changes)


def treat_casualty(actor: Actor, incident_id: str, casualty_id: str, cmd: TreatCasualty) -> Decide:
    def changes(_s: SiteState, casualty: CasualtyView, now: datetime) -> Made:
        if cmd.applied_at.tzinfo is None:
            raise FieldInvalid("body.applied_at", "must carry a timezone")
        if cmd.applied_at > now + MAX_FUTURE_SKEW:
            raise FieldInvalid("body.applied_at", "is in the future")
        fields = {
            "treatment": cmd.treatment.value,
            "applied_at": format_time(cmd.applied_at),
            "note": cmd.note,
        }
        return [("casualty.treated", {**_linked(casualty), **fields})]

    return _change(actor, incident_id, casualty_id, cmd, changes)


def assign_casualty(
    actor: Actor, incident_id: str, casualty_id: str, cmd: AssignCasualty
) -> Decide:
    def changes(state: SiteState, casualty: CasualtyView, _now: datetime) -> Made:
        rules.check_assignable(casualty)
        medic = state.persons.get(cmd.medic_id)
        if medic is None or Role.MEDIC.value not in medic.roles:
            raise FieldInvalid("body.medic_id", f"{cmd.medic_id!r} is not a medic of this site")
        payload = {**_linked(casualty, [cmd.medic_id]), "medic_id": cmd.medic_id}
        if cmd.tell_household:
            payload["medic_name"] = medic.name
        return [("casualty.assigned", payload)]

    return _change(actor, incident_id, casualty_id, cmd, changes)


def change_casualty_state(
    actor: Actor, incident_id: str, casualty_id: str, cmd: ChangeCasualtyState
) -> Decide:
    def changes(_s: SiteState, casualty: CasualtyView, _now: datetime) -> Made:
        return state_changes(actor, casualty, CasualtyState(cmd.state), cmd.note)

    return _change(actor, incident_id, casualty_id, cmd, changes)


def state_changes(
    actor: Actor | None,
    casualty: CasualtyView,
    to: CasualtyState,
    note: str = "",
    evacuation_id: str | None = None,
) -> Made:
    """The events of a casualty's new state (type, payload). A medic who starts treating an
    unassigned casualty takes it. An evacuation (issue 14, item 3) calls this with its id."""
    rules.check_transition(casualty, to)
    made: Made = []
    medic_id = casualty.medic_id
    if medic_id is None and actor is not None and Role.MEDIC in actor.roles:
        medic_id = actor.subject_id
        made.append(("casualty.assigned", {**_linked(casualty, [medic_id]), "medic_id": medic_id}))
    payload: dict[str, Any] = {**_linked(casualty, [medic_id]), "state": to.value, "note": note}
    if evacuation_id is not None:
        payload["evacuation_id"] = evacuation_id
    made.append(("casualty.status_changed", payload))
    return made


def move_casualty(actor: Actor, incident_id: str, casualty_id: str, cmd: MoveCasualty) -> Decide:
    def changes(state: SiteState, casualty: CasualtyView, _now: datetime) -> Made:
        ref = cmd.collection_point_ref
        _check_plan_ref(state, FeatureKind.COLLECTION_POINT, ref, "body.collection_point_ref")
        return [("casualty.moved", {**_linked(casualty), "collection_point_ref": ref})]

    return _change(actor, incident_id, casualty_id, cmd, changes)


# --- opened by a check-in or a status -----------------------------------------------------------
def opens_casualty(event: Event) -> bool:
    """A resident's "need a medic" check-in, or a responder's `wounded` status."""
    status = event.payload.get("status")
    if event.type == "household.checked_in":
        return status == "need_medic"
    return event.type == "responder.status_changed" and status == "wounded"


def _already_open(incident: IncidentView, event: Event) -> bool:
    return (
        rules.open_casualty_of(
            incident,
            household_id=event.payload.get("household_id"),
            person_id=event.payload.get("person_id"),
        )
        is not None
    )


def casualties_due(state: SiteState, events: Iterable[Event]) -> list[Event]:
    """The triggers that still call for a casualty on this state (their incident open, no open
    casualty for their household or person yet); repeats among them count once."""
    due: dict[tuple[str, str], Event] = {}
    for event in events:
        incident = state.incidents.get(event.incident_id or "")
        if incident is None or not incident.is_open or not opens_casualty(event):
            continue
        whose = event.payload.get("household_id") or event.payload.get("person_id")
        if whose and not _already_open(incident, event):
            due.setdefault((incident.incident_id, str(whose)), event)
    return list(due.values())


def open_casualties(triggers: list[Event]) -> Decide:
    """The follow-up command: a casualty for each trigger still due when the writer runs it (an
    identical trigger committed meanwhile, or another process's policy, opened it already)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        made: list[NewEvent] = []
        for number, trigger in enumerate(casualties_due(state, triggers)):
            made.append(_opened(state, trigger, number))
        return Decision(made)

    return decide


def _opened(state: SiteState, trigger: Event, number: int) -> NewEvent:
    incidents = list(state.incidents.values())
    count = int(rules.tag_number(incidents)[2:]) + number
    payload: dict[str, Any] = {
        "casualty_id": new_id(),
        "tag": f"C-{count:02d}",
        "opened_by_event": trigger.id,
        "medic_ids": [],
    }
    if trigger.type == "household.checked_in":
        payload.update(_from_check_in(state, trigger))
    else:
        payload.update(_from_status(state, trigger))
    incident = state.incidents[trigger.incident_id or ""]
    return NewEvent(
        type="casualty.reported",
        payload=payload,
        occurred_at=trigger.occurred_at,
        actor=trigger.actor,
        device=trigger.device,
        incident_id=incident.incident_id,
        location=trigger.location,
        drill=incident.drill,
    )


def _from_check_in(state: SiteState, trigger: Event) -> dict[str, Any]:
    household_id = trigger.payload["household_id"]
    household = state.households.get(household_id)
    fields: dict[str, Any] = {
        "source": "resident",
        "household_id": household_id,
        "count": trigger.payload.get("injured_count") or 1,
        "text": trigger.payload.get("text", ""),
    }
    if trigger.payload.get("severity"):
        fields["severity"] = trigger.payload["severity"]
    if household is not None and household.building_ref:
        fields["building_ref"] = household.building_ref
    return fields


def _from_status(state: SiteState, trigger: Event) -> dict[str, Any]:
    person_id = trigger.payload["person_id"]
    person = state.persons.get(person_id)
    fields: dict[str, Any] = {"source": "responder", "person_id": person_id}
    if person is not None:
        fields["name"] = person.name
    if trigger.payload.get("note"):
        fields["text"] = trigger.payload["note"]
    return fields
