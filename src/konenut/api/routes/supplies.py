"""Supply requests of an incident (ammunition, water, tourniquets, ...) and the site's inventory."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app.handlers import supplies
from konenut.app.permissions import NO_HOUSEHOLD
from konenut.domain.events import Scope
from konenut.domain.supplies import is_low
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(tags=["supplies"])
INCIDENT = "/api/v1/incidents/{incident_id}/supplies"
ONE = INCIDENT + "/{supply_id}"

Key = Depends(idempotency_key)


@router.get(INCIDENT, operation_id="list_supplies")
def list_supplies(
    incident_id: str, access: Access = Depends(permit("list_supplies"))
) -> list[dict[str, Any]]:
    """Every supply request of the incident with its state and runner, the newest first."""
    incident = incident_for(access, incident_id)
    requests = sorted(incident.supplies.values(), key=lambda s: s.requested_at, reverse=True)
    return [s.model_dump() for s in requests]


@router.post(INCIDENT, operation_id="request_supply", status_code=201)
async def request_supply(
    incident_id: str,
    body: supplies.RequestSupply,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("request_supply")),
) -> JSONResponse:
    """Ask for ammunition, water, tourniquets, batteries, keys...: how many, how urgent, where."""
    incident_for(access, incident_id)
    return await access.run(supplies.request_supply(access.actor, incident_id, body), idem)


@router.post(ONE + "/runner", operation_id="assign_supply_runner", status_code=201)
async def assign_supply_runner(
    incident_id: str,
    supply_id: str,
    body: supplies.AssignRunner,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("assign_supply_runner")),
) -> JSONResponse:
    """Send a runner with it (again, to replace one)."""
    incident_for(access, incident_id)
    decide = supplies.assign_runner(access.actor, incident_id, supply_id, body)
    return await access.run(decide, idem)


@router.post(ONE + "/delivered", operation_id="deliver_supply", status_code=201)
async def deliver_supply(
    incident_id: str,
    supply_id: str,
    body: supplies.DeliverSupply,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("deliver_supply")),
) -> JSONResponse:
    """It arrived: said by its runner, or by those who run the squad. Draws on the inventory."""
    supply = supplies.supply_in(incident_for(access, incident_id), supply_id)
    if access.scope is Scope.OWN:
        access.person(supply.runner_person_id or NO_HOUSEHOLD)  # unassigned: nobody's
    decide = supplies.deliver_supply(access.actor, incident_id, supply_id, body)
    return await access.run(decide, idem)


@router.post(ONE + "/cancel", operation_id="cancel_supply", status_code=201)
async def cancel_supply(
    incident_id: str,
    supply_id: str,
    body: supplies.CancelSupply,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("cancel_supply")),
) -> JSONResponse:
    """Not needed any more: said by whoever asked, or by those who run the squad."""
    supply = supplies.supply_in(incident_for(access, incident_id), supply_id)
    if access.scope is Scope.OWN:
        access.person(supply.requested_by or NO_HOUSEHOLD)
    decide = supplies.cancel_supply(access.actor, incident_id, supply_id, body)
    return await access.run(decide, idem)


@router.get("/api/v1/site/inventory", operation_id="get_inventory")
def get_inventory(access: Access = Depends(permit("get_inventory"))) -> list[dict[str, Any]]:
    """What the site holds of each item now, and whether it is under its "low" threshold."""
    stock = sorted(access.state.inventory.values(), key=lambda i: i.item)
    return [{**i.model_dump(), "low": is_low(i.quantity, i.low_below)} for i in stock]


@router.post("/api/v1/site/inventory", operation_id="set_inventory", status_code=201)
async def set_inventory(
    body: supplies.SetInventory,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_inventory")),
) -> JSONResponse:
    """Count one item (the armory's 5.56 rounds) and set under what it is low."""
    return await access.run(supplies.set_inventory(access.actor, body), idem)
