"""Orders to responders, and their acknowledgements."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.handlers.people import subject_person
from konenut.app.identity import Actor
from konenut.domain.errors import NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.state import IncidentView, SiteState


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
        person_id = subject_person(state, actor, cmd.person_id)
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
