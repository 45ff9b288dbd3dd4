"""Casualties in the projection: each one's state, triage, treatments and where it lies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class TriageView(View):
    at: str
    by: str | None = None
    category: str
    injuries: list[str] = Field(default_factory=list)
    note: str = ""


class TreatmentView(View):
    at: str
    by: str | None = None
    treatment: str
    applied_at: str
    note: str = ""


class CasualtyView(View):
    """One casualty (or a group at one place): what is known, who treats it, where it is."""

    casualty_id: str
    tag: str
    state: str = "reported"
    count: int = 1
    category: str | None = None
    severity: str | None = None
    name: str | None = None
    text: str = ""
    source: str = "squad"
    building_ref: str | None = None
    household_id: str | None = None
    person_id: str | None = None
    location: JsonDict | None = None
    collection_point_ref: str | None = None
    medic_id: str | None = None
    medic_name: str | None = None  # what the household may see (the commander allowed it)
    opened_by_event: str | None = None
    evacuation_id: str | None = None
    reported_at: str
    reported_by: str | None = None
    updated_at: str
    triage: list[TriageView] = Field(default_factory=list)
    treatments: list[TreatmentView] = Field(default_factory=list)


def _casualty(state: SiteState, event: Event) -> CasualtyView | None:
    incident = incident_of(state, event)
    casualty_id = event.payload["casualty_id"]  # every casualty event names its casualty
    casualty = incident.casualties.get(casualty_id) if incident else None
    if casualty is not None:
        casualty.updated_at = at(event)
    return casualty


def _fields(event: Event, *dropped: str) -> dict[str, Any]:
    skip = {"casualty_id", "household_id", "medic_ids", *dropped}
    return {k: v for k, v in event.payload.items() if k not in skip}


def _reported(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        when = at(event)
        casualty = CasualtyView(
            **_fields(event),
            casualty_id=event.payload["casualty_id"],
            household_id=event.payload.get("household_id"),
            location=event.location,
            reported_at=when,
            reported_by=event.actor,
            updated_at=when,
        )
        incident.casualties[casualty.casualty_id] = casualty


def _triaged(state: SiteState, event: Event) -> None:
    if casualty := _casualty(state, event):
        triage = TriageView(**_fields(event), at=at(event), by=event.actor)
        casualty.triage.append(triage)
        casualty.category = triage.category


def _treated(state: SiteState, event: Event) -> None:
    if casualty := _casualty(state, event):
        casualty.treatments.append(TreatmentView(**_fields(event), at=at(event), by=event.actor))


def _assigned(state: SiteState, event: Event) -> None:
    if casualty := _casualty(state, event):
        casualty.medic_id = event.payload["medic_id"]
        casualty.medic_name = event.payload.get("medic_name")
        if casualty.state == "reported":
            casualty.state = "assigned"


def _status_changed(state: SiteState, event: Event) -> None:
    if casualty := _casualty(state, event):
        casualty.state = event.payload["state"]
        casualty.evacuation_id = event.payload.get("evacuation_id", casualty.evacuation_id)


def _moved(state: SiteState, event: Event) -> None:
    if casualty := _casualty(state, event):
        casualty.collection_point_ref = event.payload["collection_point_ref"]


APPLIERS: dict[str, Applier] = {
    "casualty.reported": _reported,
    "casualty.triaged": _triaged,
    "casualty.treated": _treated,
    "casualty.assigned": _assigned,
    "casualty.status_changed": _status_changed,
    "casualty.moved": _moved,
}
