""" "I am entering house N": on the squad's timeline, and the answer says who is known inside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from konenut.app.commands import Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of, plan_building
from konenut.app.identity import Actor
from konenut.domain.event_types import Ref
from konenut.domain.occupancy import inside
from konenut.domain.state import IncidentView, SiteState


class Entering(Command):
    building_ref: Ref = Field(description="The building the responder is about to enter")


def entering(actor: Actor, incident_id: str, cmd: Entering) -> Decide:
    """`responder.entering`, answered with who is known to be inside."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        plan_building(state, cmd.building_ref)
        payload = {"person_id": actor.subject_id, "building_ref": cmd.building_ref}
        event = new_event(
            "responder.entering", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return Decision([event], extra={"inside": inside_of(state, incident, cmd.building_ref)})

    return decide


def inside_of(state: SiteState, incident: IncidentView, building_ref: str) -> dict[str, Any]:
    """Who is known to be inside: {occupied, people, adults, children, status, ...}."""
    found = inside(state, incident, building_ref)
    if found is None:
        return {"building_ref": building_ref, "occupied": False, "intruder": False}
    return {**found.as_json(), "occupied": True}
