"""Rules of sightings: who a report comes from, and what triage must carry."""

from __future__ import annotations

from collections.abc import Set

from konenut.domain.errors import Conflict, FieldInvalid
from konenut.domain.roles import Role
from konenut.domain.state import IncidentView

# Those who watch the cameras and run the squad: their reports come from the war room.
WAR_ROOM_ROLES = frozenset({Role.OPERATOR, Role.COMMANDER})


def reporter_source(roles: Set[Role]) -> str:
    """The `source` of a sighting reported from a device holding `roles`."""
    if roles & WAR_ROOM_ROLES:
        return "war_room"
    return "resident" if roles == {Role.RESIDENT} else "responder"


def check_update(
    incident: IncidentView,
    sighting_id: str,
    status: str,
    merged_into: str | None,
    has_location: bool,
) -> None:
    """Refuse an update that would leave the picture inconsistent (both sightings exist)."""
    if status == "merged" and merged_into is None:
        raise FieldInvalid("body.merged_into", "name the sighting this one is a duplicate of")
    if merged_into is not None and status != "merged":
        raise FieldInvalid("body.status", "a sighting with merged_into has the status merged")
    if merged_into == sighting_id:
        raise FieldInvalid("body.merged_into", "a sighting cannot be merged into itself")
    if merged_into is not None and incident.sightings[merged_into].status == "merged":
        target = incident.sightings[merged_into].merged_into
        raise Conflict(f"sighting {merged_into} was itself merged into {target}; merge into that")
    if status == "moved" and not has_location:
        raise FieldInvalid("body.location", "a move needs the new location")
    if incident.sightings[sighting_id].status == "merged":
        raise Conflict(f"sighting {sighting_id} was merged; update the one it was merged into")
