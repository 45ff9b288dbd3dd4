"""Households checking in from their safe rooms."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.identity import Actor
from konenut.domain.errors import NotFound
from konenut.domain.events import NewEvent
from konenut.domain.state import IncidentView, SiteState


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
