"""Casualties of an incident: report, triage, treat, assign a medic, move, mark how it ends;
the list each role may see (a medic: the unassigned and their own; a household: its own)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app.handlers import casualties as handlers
from konenut.domain.casualties import by_urgency
from konenut.domain.event_types import REGISTRY
from konenut.domain.event_types.casualties import CASUALTY_PRIVATE_FIELDS
from konenut.domain.roles import Role, primary_role
from konenut.domain.state.casualties import CasualtyView
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["casualties"])

Key = Depends(idempotency_key)
CASUALTY = "/{incident_id}/casualties/{casualty_id}"
# Roles that see every casualty of the incident (a responder without names or injuries).
SEE_ALL = frozenset({Role.COMMANDER, Role.OPERATOR, Role.LIAISON, Role.RESPONDER})


@router.post("/{incident_id}/casualties", operation_id="report_casualty", status_code=201)
async def report_casualty(
    incident_id: str,
    body: handlers.ReportCasualty,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("report_casualty")),
) -> JSONResponse:
    """A casualty (or several at one place): where (location, or a building_ref), how many,
    what is known. Answers with its id and tag number."""
    incident_for(access, incident_id)
    return await access.run(handlers.report_casualty(access.actor, incident_id, body), idem)


@router.post(f"{CASUALTY}/triage", operation_id="triage_casualty", status_code=201)
async def triage_casualty(
    incident_id: str,
    casualty_id: str,
    body: handlers.TriageCasualty,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("triage_casualty")),
) -> JSONResponse:
    """A START category and the injuries seen; each triage is kept with its time."""
    incident_for(access, incident_id)
    decide = handlers.triage_casualty(access.actor, incident_id, casualty_id, body)
    return await access.run(decide, idem)


@router.post(f"{CASUALTY}/treatments", operation_id="treat_casualty", status_code=201)
async def treat_casualty(
    incident_id: str,
    casualty_id: str,
    body: handlers.TreatCasualty,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("treat_casualty")),
) -> JSONResponse:
    """A treatment with the time it was applied (a tourniquet's time: never in the future)."""
    incident_for(access, incident_id)
    decide = handlers.treat_casualty(access.actor, incident_id, casualty_id, body)
    return await access.run(decide, idem)


@router.post(f"{CASUALTY}/assignment", operation_id="assign_casualty", status_code=201)
async def assign_casualty(
    incident_id: str,
    casualty_id: str,
    body: handlers.AssignCasualty,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("assign_casualty")),
) -> JSONResponse:
    """Send a medic to the casualty (the household sees "a medic is coming")."""
    incident_for(access, incident_id)
    decide = handlers.assign_casualty(access.actor, incident_id, casualty_id, body)
    return await access.run(decide, idem)


@router.post(f"{CASUALTY}/state", operation_id="change_casualty_state", status_code=201)
async def change_casualty_state(
    incident_id: str,
    casualty_id: str,
    body: handlers.ChangeCasualtyState,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("change_casualty_state")),
) -> JSONResponse:
    """Treating, handed over, evacuated or died; a state it cannot go to is 409 naming it."""
    incident_for(access, incident_id)
    decide = handlers.change_casualty_state(access.actor, incident_id, casualty_id, body)
    return await access.run(decide, idem)


@router.post(f"{CASUALTY}/place", operation_id="move_casualty", status_code=201)
async def move_casualty(
    incident_id: str,
    casualty_id: str,
    body: handlers.MoveCasualty,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("move_casualty")),
) -> JSONResponse:
    """The casualty is now at one of the site plan's collection points."""
    incident_for(access, incident_id)
    decide = handlers.move_casualty(access.actor, incident_id, casualty_id, body)
    return await access.run(decide, idem)


@router.get("/{incident_id}/casualties", operation_id="list_casualties")
def list_casualties(
    incident_id: str, access: Access = Depends(permit("list_casualties"))
) -> list[dict[str, Any]]:
    """The casualties the caller may see, most urgent first (category, then time waiting)."""
    incident = incident_for(access, incident_id)
    seen = [c for c in list(incident.casualties.values()) if _sees(access, c)]
    return [_shown(access, c) for c in by_urgency(seen)]


def _sees(access: Access, casualty: CasualtyView) -> bool:
    role = primary_role(access.actor.roles)
    if role in SEE_ALL:
        return True
    if role is Role.MEDIC:
        return casualty.medic_id in (None, access.actor.subject_id)
    return casualty.household_id is not None and casualty.household_id == access.actor.household_id


def _shown(access: Access, casualty: CasualtyView) -> dict[str, Any]:
    """The casualty as the caller's role may see it, by the stream's rule (a role whose view of
    casualty.reported hides fields gets none of the private ones); a household learns only that
    a medic is coming, not how it ended."""
    shown = casualty.model_dump()
    seen = REGISTRY["casualty.reported"].audience.get(primary_role(access.actor.roles))
    if seen is not None and seen.hide:
        shown = {k: v for k, v in shown.items() if k not in CASUALTY_PRIVATE_FIELDS}
    if primary_role(access.actor.roles) is Role.RESIDENT:
        shown["state"] = "assigned" if casualty.medic_id else "reported"
    return shown
