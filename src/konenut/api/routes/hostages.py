"""The hostage / barricade board of an incident: for those who run the squad and the liaison."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app import hostages
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["hostages"])

Key = Depends(idempotency_key)


@router.post("/{incident_id}/hostage-situations", operation_id="report_hostages", status_code=201)
async def report_hostages(
    incident_id: str,
    body: hostages.ReportHostages,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("report_hostages")),
) -> JSONResponse:
    """Mark a building (a household's, when known) as "hostages held", with what is known."""
    incident_for(access, incident_id)
    return await access.run(hostages.report(access.actor, incident_id, body), idem)


@router.post(
    "/{incident_id}/hostage-situations/{situation_id}/updates",
    operation_id="update_hostages",
    status_code=201,
)
async def update_hostages(
    incident_id: str,
    situation_id: str,
    body: hostages.UpdateHostages,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("update_hostages")),
) -> JSONResponse:
    """A timestamped update: what is known now, or that it is resolved."""
    incident_for(access, incident_id)
    return await access.run(hostages.update(access.actor, incident_id, situation_id, body), idem)


@router.get("/{incident_id}/hostage-situations", operation_id="list_hostages")
def list_hostages(
    incident_id: str, access: Access = Depends(permit("list_hostages"))
) -> list[dict[str, Any]]:
    """Every hostage situation of the incident with its updates, the newest first."""
    incident = incident_for(access, incident_id)
    situations = sorted(incident.hostages.values(), key=lambda s: s.reported_at, reverse=True)
    return [s.model_dump() for s in situations]
