"""Sightings: reporting one (a resident's default place is its building), updating it."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.identity import Actor
from konenut.domain.errors import InvalidEvent, NotFound
from konenut.domain.events import Location, NewEvent
from konenut.domain.ids import new_id
from konenut.domain.on_site import SIGHTING_MARGIN_M, check_on_site
from konenut.domain.sightings import check_update, reporter_source
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature
from konenut.domain.state import IncidentView, SiteState


class LocationRequired(InvalidEvent):
    """A sighting with no place, from someone who has no building to default to."""

    slug = "validation-error"

    def __init__(self) -> None:
        errors = [{"loc": "body.location", "msg": "Field required"}]
        super().__init__("body.location: Field required", errors)


def _outside(state: SiteState, actor: Actor) -> Location:
    """Where a resident who says "outside my house" is: the middle of its building."""
    household = state.households.get(actor.household_id or "")
    plan = (state.site or {}).get("plan")
    building = (
        find_feature(plan, [FeatureKind.BUILDING], household.building_ref)
        if household is not None and household.building_ref
        else None
    )
    if building is not None:
        lon, lat = feature_point(building["geometry"])
        return Location(lat=lat, lon=lon)
    raise LocationRequired()


def report_sighting(actor: Actor, incident_id: str, cmd: c.ReportSighting) -> Decide:
    sighting_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        check_on_site(state.site, cmd.location, "body.location", SIGHTING_MARGIN_M)
        payload = {
            "sighting_id": sighting_id,
            "source": reporter_source(actor.roles),
            **cmd.model_dump(exclude={"occurred_at", "location"}),
        }
        where = cmd if cmd.location else cmd.model_copy(update={"location": _outside(state, actor)})
        return [
            new_event(
                "sighting.reported", payload, actor=actor, cmd=where, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner, {"sighting_id": sighting_id})


def update_sighting(
    actor: Actor, incident_id: str, sighting_id: str, cmd: c.UpdateSighting
) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        if sighting_id not in incident.sightings:
            raise NotFound(f"no sighting {sighting_id} in incident {incident.ref}")
        if cmd.merged_into is not None and cmd.merged_into not in incident.sightings:
            raise NotFound(f"no sighting {cmd.merged_into} to merge into")
        check_update(incident, sighting_id, cmd.status, cmd.merged_into, cmd.location is not None)
        check_on_site(state.site, cmd.location, "body.location", SIGHTING_MARGIN_M)
        payload = {
            "sighting_id": sighting_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return [
            new_event("sighting.updated", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)
