"""Sightings in the projection: each group's track, status and the reports merged into it."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class SightingView(View):
    sighting_id: str
    category: str
    count: int
    armed: bool | None = None
    vehicle: bool = False
    direction_deg: float | None = None
    text: str = ""
    source: str
    status: str = "reported"
    location: JsonDict
    reported_at: str
    updated_at: str
    reporter: str | None = None
    merged_into: str | None = None
    photo_ids: list[str] = Field(default_factory=list)
    # Where the group was seen, oldest first ({location, at}): a report, each move, and the
    # reports merged into it. `location` and `last_seen_at` are its last point.
    track: list[JsonDict] = Field(default_factory=list)
    last_seen_at: str = ""
    merged_from: list[str] = Field(default_factory=list)


class SightingUpdatedPayload(TypedDict):
    sighting_id: str
    status: str
    merged_into: NotRequired[str]
    count: NotRequired[int]


_THREAT = {"friendly_unknown": 0, "unknown": 1, "hostile": 2}


def _sighting_reported(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    if incident is None or event.location is None:
        return
    sighting = SightingView(
        **event.payload,
        location=event.location,
        reported_at=at(event),
        updated_at=at(event),
        reporter=event.actor,
        track=[{"location": event.location, "at": at(event)}],
        last_seen_at=at(event),
    )
    incident.sightings[sighting.sighting_id] = sighting


def _retrack(sighting: SightingView, points: list[JsonDict]) -> None:
    """Add track points in time order (a late offline report lands where it belongs)."""
    sighting.track = sorted([*sighting.track, *points], key=lambda point: str(point["at"]))
    sighting.location = sighting.track[-1]["location"]
    sighting.last_seen_at = str(sighting.track[-1]["at"])


def _merge(duplicate: SightingView, into: SightingView) -> None:
    """Two reports of one group: the larger count, either's flags, both photos and places."""
    into.merged_from = [*into.merged_from, duplicate.sighting_id, *duplicate.merged_from]
    into.count = max(into.count, duplicate.count)
    if _THREAT.get(duplicate.category, 0) > _THREAT.get(into.category, 0):
        into.category = duplicate.category  # one reporter saw weapons: the group is hostile
    into.armed = True if (into.armed or duplicate.armed) else into.armed
    into.vehicle = into.vehicle or duplicate.vehicle
    into.photo_ids = [*into.photo_ids, *(i for i in duplicate.photo_ids if i not in into.photo_ids)]
    _retrack(into, duplicate.track)


def _sighting_updated(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    if incident is None:
        return
    p = cast(SightingUpdatedPayload, event.payload)
    sighting = incident.sightings.get(p["sighting_id"])
    if sighting is None:
        return
    sighting.status = p["status"]
    sighting.updated_at = at(event)
    sighting.merged_into = p.get("merged_into", sighting.merged_into)
    sighting.count = p.get("count", sighting.count)
    if event.location is not None:
        _retrack(sighting, [{"location": event.location, "at": at(event)}])
    into = incident.sightings.get(p.get("merged_into") or "")
    if p["status"] == "merged" and into is not None and into is not sighting:
        _merge(sighting, into)


APPLIERS: dict[str, Applier] = {
    "sighting.reported": _sighting_reported,
    "sighting.updated": _sighting_updated,
}
