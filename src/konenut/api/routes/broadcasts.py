"""Broadcast templates, a household's "read", and a broadcast's delivery and read state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.api.problems import ApiProblem
from konenut.app import broadcaster
from konenut.domain.state import BroadcastView, IncidentView, SiteState
from konenut.i18n import INSTRUCTION_PREFIX, instructions
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["broadcasts"])

Key = Depends(idempotency_key)


@router.get("/broadcast-templates", operation_id="list_broadcast_templates")
def list_broadcast_templates(
    access: Access = Depends(permit("list_broadcast_templates")),
) -> list[dict[str, Any]]:
    """Every broadcast template with its text in Hebrew, Arabic, English, Thai and Nepali."""
    return [
        {"template": key.removeprefix(INSTRUCTION_PREFIX), "key": key, "texts": texts}
        for key, texts in instructions().items()
    ]


def _broadcast(access: Access, incident_id: str, broadcast_id: str) -> BroadcastView:
    broadcast = incident_for(access, incident_id).broadcasts.get(broadcast_id)
    if broadcast is None:
        raise ApiProblem(404, f"no broadcast {broadcast_id}")
    return broadcast


@router.post(
    "/incidents/{incident_id}/broadcasts/{broadcast_id}/read",
    operation_id="mark_broadcast_read",
    status_code=201,
)
async def mark_broadcast_read(
    incident_id: str,
    broadcast_id: str,
    body: broadcaster.MarkBroadcastRead,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("mark_broadcast_read")),
) -> JSONResponse:
    """The household's app showed the broadcast (200 and nothing stored when already read)."""
    household_id = body.household_id or access.actor.household_id
    if household_id is None:
        raise ApiProblem(422, "this device belongs to no household: give household_id")
    access.household(household_id)
    broadcast = _broadcast(access, incident_id, broadcast_id)
    if broadcast.household_ids and household_id not in broadcast.household_ids:
        raise ApiProblem(404, f"no broadcast {broadcast_id}")  # not theirs: not even its id
    decide = broadcaster.mark_read(access.actor, incident_id, broadcast_id, household_id, body)
    return await access.run(decide, idem)


@router.get(
    "/incidents/{incident_id}/broadcasts/{broadcast_id}/status",
    operation_id="get_broadcast_status",
)
def get_broadcast_status(
    incident_id: str,
    broadcast_id: str,
    access: Access = Depends(permit("get_broadcast_status")),
) -> dict[str, Any]:
    """Per household: the channels that delivered it or failed (and why), and when it was read;
    counts over all of them."""
    incident = incident_for(access, incident_id)
    broadcast = _broadcast(access, incident_id, broadcast_id)
    return status_of(access.state, incident, broadcast)


def status_of(state: SiteState, incident: IncidentView, broadcast: BroadcastView) -> dict[str, Any]:
    targets = broadcast.household_ids or list(state.households)
    rows: dict[str, dict[str, Any]] = {}
    for household_id in targets:
        household = state.households.get(household_id)
        rows[household_id] = {
            "household_id": household_id,
            "ref": household.ref if household else None,
            "name": household.name if household else None,
            "channels": {},
            "delivered_via": [],
            "read_at": broadcast.read.get(household_id),
        }
    for delivery in sorted(broadcast.deliveries.values(), key=lambda d: d.sent_at):
        row = rows.get(delivery.household_id)
        if row is None:
            continue
        row["channels"][delivery.channel] = {
            "state": delivery.outcome or "sending",
            "lang": delivery.lang,
            "langs": delivery.langs or [delivery.lang],
            "to": delivery.to,
            "reason": delivery.reason,
        }
        if delivery.outcome == "delivered":
            row["delivered_via"].append(delivery.channel)
    households = sorted(rows.values(), key=lambda r: str(r["ref"]))
    return {
        "broadcast_id": broadcast.broadcast_id,
        "incident_id": incident.incident_id,
        "sent_at": broadcast.sent_at,
        "counts": broadcaster.broadcast_counts(state, broadcast),
        "households": households,
    }
