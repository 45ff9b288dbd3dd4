"""The hostage / barricade board: a building where people are held, and what is known of it."""

from __future__ import annotations

from datetime import datetime

from konenut.app.commands import Command
from konenut.app.decisions import Decide
from konenut.app.handlers import in_open_incident, new_event
from konenut.app.identity import Actor
from konenut.domain.errors import Conflict, NotFound
from konenut.domain.event_types import HostageFields, HostageUpdateFields
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.site_plan import FeatureKind, SitePlan
from konenut.domain.state import IncidentView, SiteState


class ReportHostages(Command, HostageFields):
    """People held in a building (a household's, when known)."""


class UpdateHostages(Command, HostageUpdateFields):
    """What is known now; each update is kept with its time."""


def _check_place(state: SiteState, cmd: ReportHostages) -> None:
    if cmd.household_id is not None and cmd.household_id not in state.households:
        raise NotFound(f"no household {cmd.household_id}")
    plan = state.site.get("plan") if state.site else None
    if plan and cmd.building_ref not in SitePlan.model_validate(plan).refs(FeatureKind.BUILDING):
        raise NotFound(f"no building {cmd.building_ref!r} on the site plan")


def report(actor: Actor | None, incident_id: str, cmd: ReportHostages) -> Decide:
    situation_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        _check_place(state, cmd)
        # Raised from the household's own "someone is in the house" check-in.
        checkin = incident.checkins.get(cmd.household_id or "")
        source = "resident" if checkin is not None and checkin.status == "intruder" else "operator"
        payload = {
            "situation_id": situation_id,
            "source": source,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        event = new_event(
            "hostage.reported", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return [event]

    return in_open_incident(incident_id, inner, {"situation_id": situation_id})


def update(actor: Actor, incident_id: str, situation_id: str, cmd: UpdateHostages) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        situation = incident.hostages.get(situation_id)
        if situation is None:
            raise NotFound(f"no hostage situation {situation_id} in incident {incident.ref}")
        if situation.status == "resolved":
            raise Conflict("this hostage situation is resolved")
        payload = {
            "situation_id": situation_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        event = new_event(
            "hostage.updated", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return [event]

    return in_open_incident(incident_id, inner)
