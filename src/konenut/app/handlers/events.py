"""Building an event of a command: the envelope every handler fills the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from konenut.app import commands as c
from konenut.app.identity import Actor
from konenut.domain.events import NewEvent
from konenut.domain.state import IncidentView


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
