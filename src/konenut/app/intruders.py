"""An operator clears the intruder reports at a building: the squad checked it."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from konenut.app.commands import Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of, plan_building
from konenut.app.identity import Actor
from konenut.domain.event_types import Ref
from konenut.domain.state import SiteState


class ClearIntruder(Command):
    building_ref: Ref = Field(description="The building whose intruder reports are cleared")
    text: str = Field(default="", max_length=300, description="What the squad found")


def clear_intruder(actor: Actor, incident_id: str, cmd: ClearIntruder) -> Decide:
    """`intruder.cleared`: the building stops being a threat for the caution rules (until
    someone inside reports an intruder again); nothing to clear changes nothing (200)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        plan_building(state, cmd.building_ref)
        if cmd.building_ref not in incident.intruders.values():
            return Decision()
        payload = {"building_ref": cmd.building_ref, "text": cmd.text}
        event = new_event(
            "intruder.cleared", payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return Decision([event])

    return decide
