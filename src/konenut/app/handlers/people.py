"""People and households of the registry, and whom a command is about."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.identity import Actor
from konenut.domain.errors import Conflict, NotFound
from konenut.domain.ids import new_id
from konenut.domain.phones import site_phone
from konenut.domain.roles import SubjectKind
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import SiteState


def subject_person(state: SiteState, actor: Actor, person_id: str | None) -> str:
    person_id = person_id or actor.subject_id
    if person_id not in state.persons and actor.subject_kind is SubjectKind.PERSON:
        raise NotFound(f"no person {person_id}")
    return person_id


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
