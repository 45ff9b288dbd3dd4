"""The accountability board: who is safe, who needs help, who has not answered; asking again."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app import accountability as app
from konenut.domain import accountability
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["accountability"])

Key = Depends(idempotency_key)


@router.get("/{incident_id}/accountability", operation_id="get_accountability")
def get_accountability(
    incident_id: str, access: Access = Depends(permit("get_accountability"))
) -> dict[str, Any]:
    """Counts and every household: in danger first (red), then the silent ones by risk."""
    incident = incident_for(access, incident_id)
    result = accountability.board(access.state, incident)
    result["recheck_every_mins"] = incident.recheck_every_mins
    return result


@router.post(
    "/{incident_id}/accountability/reping", operation_id="reping_households", status_code=201
)
async def reping_households(
    incident_id: str,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("reping_households")),
) -> JSONResponse:
    """Ask again exactly the households that have not answered; `pinged` says how many."""
    incident_for(access, incident_id)
    return await access.run(app.reping(access.actor, incident_id), idem)


@router.put("/{incident_id}/accountability/recheck", operation_id="set_recheck", status_code=201)
async def set_recheck(
    incident_id: str,
    body: app.SetRecheck,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_recheck")),
) -> JSONResponse:
    """Proof of life: every N minutes, households silent that long are asked again (0: off)."""
    incident_for(access, incident_id)
    return await access.run(app.set_recheck(access.actor, incident_id, body), idem)
