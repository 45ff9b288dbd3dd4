"""Incidents and everything that happens in one: positions, sightings, households,
broadcasts, orders, and the incident's log."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.api.routes.site import MAX_PAGE_EVENTS
from konenut.api.runtime import events_page, visible
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.photos import PhotoStore, check_photos
from konenut.domain.event_types import REGISTRY, SAFE_WORD_AUDIENCE
from konenut.domain.events import Scope
from konenut.domain.roles import Role
from konenut.domain.state import IncidentView
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Key = Depends(idempotency_key)


def _summary(incident: IncidentView) -> dict[str, Any]:
    return incident.model_dump(
        include={
            "incident_id",
            "ref",
            "title",
            "kind",
            "drill",
            "opened_at",
            "closed_at",
            "summary",
        }
    )


@router.get("", operation_id="list_incidents")
def list_incidents(access: Access = Depends(permit("list_incidents"))) -> list[dict[str, Any]]:
    """Incidents of the site, newest first (incident-bound devices see only theirs)."""
    incidents = list(access.state.incidents.values())
    bound = access.actor.incident_id
    shown = [_summary(i) for i in incidents if bound is None or i.incident_id == bound]
    return sorted(shown, key=lambda i: i["opened_at"], reverse=True)


@router.post("", operation_id="open_incident", status_code=201)
async def open_incident(
    body: c.OpenIncident,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("open_incident")),
) -> JSONResponse:
    """Open an incident (at most one real one at a time; any number of drills)."""
    return await access.run(handlers.open_incident(access.actor, body), idem)


@router.get("/{incident_id}", operation_id="get_incident")
def get_incident(
    incident_id: str, access: Access = Depends(permit("get_incident"))
) -> dict[str, Any]:
    """The incident's current picture, as much of it as the caller may see."""
    incident = incident_for(access, incident_id)
    roles = access.actor.roles
    result = _summary(incident)
    if roles & {
        Role.COMMANDER,
        Role.OPERATOR,
        Role.RESPONDER,
        Role.MEDIC,
        Role.VOLUNTEER,
        Role.LIAISON,
    }:
        full = incident.model_dump()
        result.update(
            {k: full[k] for k in ("musters", "responders", "positions", "sightings", "checkins")}
        )
        result["orders"] = {o["order_id"]: o for o in _orders_for(access, incident)}
    elif Role.RESIDENT in roles and access.actor.household_id:
        own = incident.checkins.get(access.actor.household_id)
        result["checkin"] = own.model_dump() if own else None
    result["broadcasts"] = _broadcasts_for(access, incident)
    # Never the challenge (GET .../challenge has it); the safe word never to a guest.
    if roles & SAFE_WORD_AUDIENCE.keys():
        result["safe_word"] = incident.safe_word
    return result


@router.post("/{incident_id}/close", operation_id="close_incident", status_code=201)
async def close_incident(
    incident_id: str,
    body: c.CloseIncident,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("close_incident")),
) -> JSONResponse:
    """Close the incident; passes bound to it stop working."""
    incident_for(access, incident_id)
    return await access.run(handlers.close_incident(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/events", operation_id="list_incident_events")
def list_incident_events(
    incident_id: str,
    since: int = Query(0, ge=0, le=2**62, description="Return events with seq > since"),
    limit: int = Query(1000, ge=1, le=MAX_PAGE_EVENTS),
    access: Access = Depends(permit("list_incident_events")),
) -> dict[str, Any]:
    """The incident's timeline: the site log filtered by incident and by the caller's roles,
    paged as `GET /site/events` pages it."""
    incident_for(access, incident_id)
    runtime, actor = access.runtime, access.actor
    return events_page(runtime.store, actor.site_id, actor.viewer, since, limit, incident_id)


@router.get(
    "/{incident_id}/log.jsonl",
    operation_id="export_incident_log",
    response_class=Response,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export_incident_log(
    incident_id: str, access: Access = Depends(permit("export_incident_log"))
) -> Response:
    """The incident's whole log as JSON Lines (audited)."""
    incident_for(access, incident_id)
    store = access.runtime.store
    events = store.read(access.actor.site_id, 0, incident_id=incident_id)
    lines = [orjson.dumps(e) for e in visible(events, access.actor.viewer)]
    await access.runtime.run(
        access.actor.site_id,
        handlers.record_export(access.actor, incident_id, len(lines), "api"),
        None,
    )
    return Response(
        b"\n".join(lines) + (b"\n" if lines else b""), media_type="application/x-ndjson"
    )


# --- positions and sightings ----------------------------------------------------------------
@router.post("/{incident_id}/positions", operation_id="report_position", status_code=201)
async def report_position(
    incident_id: str,
    body: c.ReportPosition,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("report_position")),
) -> JSONResponse:
    """A unit's position: the caller's own, or (operators) a unit placed by hand."""
    incident_for(access, incident_id)
    access.person(body.subject_id)
    return await access.run(handlers.report_position(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/positions", operation_id="list_positions")
def list_positions(
    incident_id: str, access: Access = Depends(permit("list_positions"))
) -> list[dict[str, Any]]:
    """The latest position of every unit."""
    return [p.model_dump() for p in list(incident_for(access, incident_id).positions.values())]


@router.post("/{incident_id}/sightings", operation_id="report_sighting", status_code=201)
async def report_sighting(
    incident_id: str,
    body: c.ReportSighting,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("report_sighting")),
) -> JSONResponse:
    """Hostile, unknown or unidentified friendly people seen at a place (with photos uploaded
    to /photos first)."""
    incident_for(access, incident_id)
    check_photos(PhotoStore.in_data_dir(access.runtime.settings.data_dir), body.photo_ids)
    return await access.run(handlers.report_sighting(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/sightings", operation_id="list_sightings")
def list_sightings(
    incident_id: str, access: Access = Depends(permit("list_sightings"))
) -> list[dict[str, Any]]:
    """Every sighting with its latest status and place."""
    return [s.model_dump() for s in list(incident_for(access, incident_id).sightings.values())]


@router.post(
    "/{incident_id}/sightings/{sighting_id}", operation_id="update_sighting", status_code=201
)
async def update_sighting(
    incident_id: str,
    sighting_id: str,
    body: c.UpdateSighting,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("update_sighting")),
) -> JSONResponse:
    """Confirm, dismiss, merge, move or mark a sighting neutralised."""
    incident_for(access, incident_id)
    return await access.run(
        handlers.update_sighting(access.actor, incident_id, sighting_id, body), idem
    )


# --- households ------------------------------------------------------------------------------
@router.get("/{incident_id}/households", operation_id="list_household_states")
def list_household_states(
    incident_id: str, access: Access = Depends(permit("list_household_states"))
) -> list[dict[str, Any]]:
    """Every household with its latest check-in in this incident (null: no answer yet)."""
    incident = incident_for(access, incident_id)
    return [
        {
            **h.model_dump(),
            "checkin": (
                incident.checkins[h.household_id].model_dump()
                if h.household_id in incident.checkins
                else None
            ),
        }
        for h in list(access.state.households.values())
    ]


@router.post(
    "/{incident_id}/households/{household_id}/check-ins",
    operation_id="check_in_household",
    status_code=201,
)
async def check_in_household(
    incident_id: str,
    household_id: str,
    body: c.CheckIn,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("check_in_household")),
) -> JSONResponse:
    """A household says: safe, need a medic, someone in the house, smoke, or not home."""
    incident_for(access, incident_id)
    access.household(household_id)
    return await access.run(handlers.check_in(access.actor, incident_id, household_id, body), idem)


# --- broadcasts and orders -------------------------------------------------------------------
def _broadcasts_for(access: Access, incident: IncidentView) -> list[dict[str, Any]]:
    """The broadcasts of the incident this caller receives, by the same audience rule as the
    log and the stream (a resident gets those for all and for its own household)."""
    events = access.runtime.store.read(
        access.actor.site_id, 0, incident_id=incident.incident_id, types=["broadcast.sent"]
    )
    shown = []
    for event in visible(events, access.actor.viewer):
        item = {**event["payload"], "sent_at": event["occurred_at"]}
        if event["actor"] is not None:
            item["by"] = event["actor"]
        shown.append(item)
    return shown


@router.post("/{incident_id}/broadcasts", operation_id="send_broadcast", status_code=201)
async def send_broadcast(
    incident_id: str,
    body: c.SendBroadcast,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("send_broadcast")),
) -> JSONResponse:
    """An instruction to residents, per language, to all or to chosen households."""
    incident_for(access, incident_id)
    return await access.run(handlers.send_broadcast(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/broadcasts", operation_id="list_broadcasts")
def list_broadcasts(
    incident_id: str, access: Access = Depends(permit("list_broadcasts"))
) -> list[dict[str, Any]]:
    """Broadcasts the caller receives."""
    return _broadcasts_for(access, incident_for(access, incident_id))


def _orders_for(access: Access, incident: IncidentView) -> list[dict[str, Any]]:
    """The orders this caller receives, by the same audience rule as the log and the stream
    (a responder gets those for all and those naming them; those who run the squad, all)."""
    audience = REGISTRY["order.sent"].audience
    viewer = access.actor.viewer
    sees_all = any(r in audience and audience[r].scope is not Scope.TARGETED for r in viewer.roles)
    return [
        o.model_dump()
        for o in list(incident.orders.values())
        if sees_all or not o.to_person_ids or viewer.subject_id in o.to_person_ids
    ]


@router.post("/{incident_id}/orders", operation_id="send_order", status_code=201)
async def send_order(
    incident_id: str,
    body: c.SendOrder,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("send_order")),
) -> JSONResponse:
    """An order to named squad members, to teams, or to all."""
    incident_for(access, incident_id)
    return await access.run(handlers.send_order(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/orders", operation_id="list_orders")
def list_orders(
    incident_id: str, access: Access = Depends(permit("list_orders"))
) -> list[dict[str, Any]]:
    """Orders the caller receives, with who has acknowledged them."""
    return _orders_for(access, incident_for(access, incident_id))


@router.post(
    "/{incident_id}/orders/{order_id}/acknowledge",
    operation_id="acknowledge_order",
    status_code=201,
)
async def acknowledge_order(
    incident_id: str,
    order_id: str,
    body: c.AcknowledgeOrder,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("acknowledge_order")),
) -> JSONResponse:
    """Acknowledge an order (once; a repeat changes nothing)."""
    incident_for(access, incident_id)
    access.person(body.person_id)
    return await access.run(
        handlers.acknowledge_order(access.actor, incident_id, order_id, body), idem
    )
