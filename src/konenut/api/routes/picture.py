"""The picture's safety reads: who hides where, "I am entering house N", intruders cleared."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.api.runtime import visible
from konenut.app import entering, intruders
from konenut.domain import active_cautions, occupancy
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["picture"])

Key = Depends(idempotency_key)


@router.get("/{incident_id}/occupancy", operation_id="get_occupancy")
def get_occupancy(
    incident_id: str, lang: str = "en", access: Access = Depends(permit("get_occupancy"))
) -> dict[str, Any]:
    """Buildings someone is known to be inside (check-ins of households and guests)."""
    incident = incident_for(access, incident_id)
    found = occupancy.occupancy(access.state, incident, lang)
    return {"buildings": [o.as_json() for o in found]}


@router.get("/{incident_id}/cautions", operation_id="list_cautions")
def list_cautions(
    incident_id: str, access: Access = Depends(permit("list_cautions"))
) -> dict[str, Any]:
    """The caution warnings that still stand (domain/active_cautions.py), newest first, as
    the stream would have sent them to this caller: a unit gets those that warned it."""
    incident = incident_for(access, incident_id)
    store = access.runtime.store
    events = store.read(access.actor.site_id, 0, incident_id=incident_id, types=["caution.raised"])
    standing = active_cautions.active(events, incident, store.clock())
    return {"cautions": active_cautions.as_last_told(visible(standing, access.actor.viewer))}


@router.post("/{incident_id}/entering", operation_id="mark_entering", status_code=201)
async def mark_entering(
    incident_id: str,
    body: entering.Entering,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("mark_entering")),
) -> JSONResponse:
    """ "I am entering house N": on the timeline; `inside` says who is known to be in there
    ("occupied: 2 adults, checked in 07:31, safe", "intruder reported inside", or no one)."""
    incident_for(access, incident_id)
    return await access.run(entering.entering(access.actor, incident_id, body), idem)


@router.post("/{incident_id}/intruder-clearances", operation_id="clear_intruder", status_code=201)
async def clear_intruder(
    incident_id: str,
    body: intruders.ClearIntruder,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("clear_intruder")),
) -> JSONResponse:
    """The squad checked the building: its intruder reports stop warning units nearby (until
    someone inside reports an intruder again). 200 when none stands there."""
    incident_for(access, incident_id)
    return await access.run(intruders.clear_intruder(access.actor, incident_id, body), idem)
