"""Site configuration: the site, its plan, people, households, and the site log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from konenut.api.deps import Access, idempotency_key, permit
from konenut.api.problems import ApiProblem
from konenut.api.runtime import events_page
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.permissions import NO_HOUSEHOLD
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import record_for
from konenut.domain.roles import PICTURE, Role
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/site", tags=["site"])

# What of the site plan residents and guests may see: where to shelter and how to get there.
PUBLIC_PLAN_KINDS = frozenset(
    {
        "boundary",
        "building",
        "gate",
        "fence",
        "path",
        "shelter",
        "collection_point",
        "zone",
        "field",
    }
)

MAX_PAGE_EVENTS = 5_000


@router.get("", operation_id="get_site")
def get_site(access: Access = Depends(permit("get_site"))) -> dict[str, Any]:
    """The site's name, languages and time zone (the plan is at /site/plan)."""
    site = dict(access.state.site or {})
    site.pop("plan", None)
    return {"site_id": access.actor.site_id, **site}


@router.put("", operation_id="configure_site", status_code=201)
async def configure_site(
    body: c.ConfigureSite,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("configure_site")),
) -> JSONResponse:
    """Set the site's name, languages, time zone and (optionally) its GeoJSON plan."""
    return await access.run(handlers.configure_site(access.actor, body), idem)


@router.get("/plan", operation_id="get_site_plan")
def get_site_plan(access: Access = Depends(permit("get_site_plan"))) -> dict[str, Any]:
    """The site plan as a GeoJSON FeatureCollection (WGS84).

    Residents and guests get the public part only: the squad's places (armory, war room,
    rally points, cameras) stay off a phone that may be captured.
    """
    plan = (access.state.site or {}).get("plan")
    if plan is None:
        raise ApiProblem(404, "this site has no plan yet; an admin sets it with PUT /api/v1/site")
    if access.actor.roles & (PICTURE | {Role.ADMIN}):
        result: dict[str, Any] = plan
        return result
    features = [f for f in plan["features"] if f["properties"]["kind"] in PUBLIC_PLAN_KINDS]
    return {**plan, "features": features}


@router.get("/people", operation_id="list_people")
def list_people(access: Access = Depends(permit("list_people"))) -> list[dict[str, Any]]:
    """Everyone registered at the site, with the fields the caller may see (contracts §4:
    phone numbers and special needs only for those who run the squad)."""
    return _records(access, "person.added", list(access.state.persons.values()))


@router.post("/people", operation_id="add_person", status_code=201)
async def add_person(
    body: c.AddPerson,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("add_person")),
) -> JSONResponse:
    """Register a person (resident, responder, ...) with roles and contact details."""
    return await access.run(handlers.add_person(access.actor, body), idem)


@router.get("/people/{person_id}", operation_id="get_person")
def get_person(person_id: str, access: Access = Depends(permit("get_person"))) -> dict[str, Any]:
    person = access.state.persons.get(person_id)
    household_id = person.household_id if person is not None else None
    access.household(household_id or NO_HOUSEHOLD)  # someone unknown is nobody's own
    if person is None:
        raise ApiProblem(404, f"no person {person_id}")
    return _records(access, "person.added", [person])[0]


@router.get("/households", operation_id="list_households")
def list_households(access: Access = Depends(permit("list_households"))) -> list[dict[str, Any]]:
    """Every household with its building, languages and safe room."""
    return _records(access, "household.added", list(access.state.households.values()))


@router.post("/households", operation_id="add_household", status_code=201)
async def add_household(
    body: c.AddHousehold,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("add_household")),
) -> JSONResponse:
    """Register a household, pointing to its building on the site plan."""
    return await access.run(handlers.add_household(access.actor, body), idem)


@router.get("/households/{household_id}", operation_id="get_household")
def get_household(
    household_id: str, access: Access = Depends(permit("get_household"))
) -> dict[str, Any]:
    access.household(household_id)
    state = access.state
    household = state.households.get(household_id)
    if household is None:
        raise ApiProblem(404, f"no household {household_id}")
    members = [p for p in list(state.persons.values()) if p.household_id == household_id]
    (shown,) = _records(access, "household.added", [household])
    return {**shown, "members": _records(access, "person.added", members)}


def _records(access: Access, type_: str, records: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Registry records shaped by the audience rule of the events they come from, so a REST
    read shows what the stream shows (domain/events.record_for)."""
    etype, roles = REGISTRY[type_], access.actor.roles
    shown = (record_for(r.model_dump(), etype, roles) for r in records)
    return [r for r in shown if r is not None]


@router.get("/events", operation_id="list_site_events")
def list_site_events(
    since: int = Query(0, ge=0, le=2**62, description="Return events with seq > since"),
    limit: int = Query(1000, ge=1, le=MAX_PAGE_EVENTS),
    access: Access = Depends(permit("list_site_events")),
) -> dict[str, Any]:
    """The site log after `since`, filtered for the caller's roles (contracts §4): up to
    `limit` events it may see; `next_since` continues a full page and is null on the last."""
    runtime, actor = access.runtime, access.actor
    return events_page(runtime.store, actor.site_id, actor.viewer, since, limit)
