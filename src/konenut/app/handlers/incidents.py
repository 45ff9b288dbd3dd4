"""Incidents: opening and closing one, and running a command inside an open one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.handlers.subscriptions import unsubscribe_devices
from konenut.app.identity import Actor
from konenut.domain.errors import Conflict, NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.state import IncidentView, SiteState


def open_incident_of(state: SiteState, incident_id: str) -> IncidentView:
    """The incident, which must exist and be open."""
    incident = state.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if not incident.is_open:
        raise Conflict(f"incident {incident.ref} is closed")
    return incident


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
