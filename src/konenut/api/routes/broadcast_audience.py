"""How many households a broadcast would reach, before it is sent (the operator's preview)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from konenut.api.deps import Access, permit
from konenut.app.commands import Body
from konenut.domain import broadcasts
from konenut.domain.broadcasts import Area, EmptyAudience, Group
from konenut.domain.event_types import Id

router = APIRouter(prefix="/api/v1", tags=["broadcasts"])


class Audience(Body):
    """One audience, as a broadcast names it: an area, a group, households, or (none) all."""

    area: Area | None = None
    group: Group | None = None
    household_ids: list[Id] = Field(default_factory=list, max_length=100_000)


@router.post("/broadcast-audience", operation_id="count_broadcast_audience")
def count_broadcast_audience(
    body: Audience, access: Access = Depends(permit("count_broadcast_audience"))
) -> dict[str, Any]:
    """The households the audience holds now, by the rule the broadcast itself will use
    (an area: households whose building's centre is inside). Stores nothing."""
    state = access.state
    if sum(bool(x) for x in (body.household_ids, body.area, body.group)) > 1:
        raise EmptyAudience("give one audience: household_ids, area or group")
    if not (body.area or body.group or body.household_ids):
        chosen = sorted(state.households, key=lambda h: state.households[h].ref)
    else:
        try:
            chosen = broadcasts.resolve(state, body.area, body.group, body.household_ids)
        except EmptyAudience:
            chosen = []
        chosen = [h for h in chosen if h in state.households]
    return {
        "households": len(chosen),
        "refs": [state.households[h].ref for h in chosen],
        "household_ids": chosen,
    }
