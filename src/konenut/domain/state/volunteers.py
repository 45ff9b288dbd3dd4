"""Volunteers in the projection: who joined by a pass, and what the commander decided."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View, at

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class VolunteerView(View):
    """Someone who joined an incident by a pass; pending until a commander decides."""

    volunteer_id: str
    pass_id: str
    incident_id: str
    name: str
    phone: str | None = None
    affiliation: str
    armed: bool
    language: str = "he"
    status: str = "pending"  # "pending" | "approved" | "declined"
    joined_at: str
    decided_at: str | None = None
    decided_by: str | None = None


class VolunteerDecidedPayload(TypedDict):
    """What the projection reads of volunteer.approved and volunteer.declined."""

    volunteer_id: str


def _volunteer_joined(state: SiteState, event: Event) -> None:
    if event.incident_id is None:
        return
    volunteer = VolunteerView(**event.payload, incident_id=event.incident_id, joined_at=at(event))
    state.volunteers[volunteer.volunteer_id] = volunteer


def _volunteer_decided(status: str) -> Applier:
    def apply(state: SiteState, event: Event) -> None:
        volunteer_id = cast(VolunteerDecidedPayload, event.payload)["volunteer_id"]
        volunteer = state.volunteers.get(volunteer_id)
        if volunteer is not None:
            volunteer.status = status
            volunteer.decided_at = at(event)
            volunteer.decided_by = event.actor

    return apply


APPLIERS: dict[str, Applier] = {
    "volunteer.joined": _volunteer_joined,
    "volunteer.approved": _volunteer_decided("approved"),
    "volunteer.declined": _volunteer_decided("declined"),
}
