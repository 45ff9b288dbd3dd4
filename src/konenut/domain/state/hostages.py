"""Hostage situations in the projection: what is known of each, and every update."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class HostageUpdateView(View):
    at: str
    by: str | None = None
    text: str = ""
    people_inside: int | None = None
    attackers_inside: int | None = None
    contact_channel: str | None = None
    status: str = "ongoing"


class HostageView(View):
    """A household or building where people are held: what is known, and each update."""

    situation_id: str
    household_id: str | None = None
    building_ref: str
    people_inside: int | None = None
    attackers_inside: int | None = None
    contact_channel: str = ""
    text: str = ""
    source: str = "operator"
    status: str = "ongoing"
    reported_at: str
    reported_by: str | None = None
    updated_at: str
    updates: list[HostageUpdateView] = Field(default_factory=list)


class HostageUpdatedPayload(TypedDict):
    """What the projection reads of a hostage.updated payload (beyond the update's fields)."""

    situation_id: str


def _hostage_reported(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        when = at(event)
        situation = HostageView(
            **event.payload, reported_at=when, reported_by=event.actor, updated_at=when
        )
        incident.hostages[situation.situation_id] = situation


def _hostage_updated(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    situation_id = cast(HostageUpdatedPayload, event.payload)["situation_id"]
    situation = incident.hostages.get(situation_id) if incident else None
    if situation is None:
        return
    fields = {k: v for k, v in event.payload.items() if k != "situation_id"}
    update = HostageUpdateView(**fields, at=at(event), by=event.actor)
    situation.updates.append(update)
    situation.status = update.status
    situation.updated_at = update.at
    if update.people_inside is not None:
        situation.people_inside = update.people_inside
    if update.attackers_inside is not None:
        situation.attackers_inside = update.attackers_inside
    if update.contact_channel is not None:
        situation.contact_channel = update.contact_channel


APPLIERS: dict[str, Applier] = {
    "hostage.reported": _hostage_reported,
    "hostage.updated": _hostage_updated,
}
