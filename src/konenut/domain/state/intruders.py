"""Live intruder reports in the projection: who reported one in which building, until when."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.guests import GuestView
    from konenut.domain.state.incidents import IncidentView
    from konenut.domain.state.people import HouseholdView
    from konenut.domain.state.site import SiteState


class IntruderClearedPayload(TypedDict):
    building_ref: str


def report_intruder(
    incident: IncidentView,
    reporter: str,
    status: str,
    inside: HouseholdView | GuestView | None,
    at: str,
) -> None:
    """A reporter's latest status: an intruder report at its building stands, or ends."""
    was = incident.intruders.pop(reporter, None)
    if status == "intruder" and inside is not None and inside.building_ref:
        incident.intruders[reporter] = inside.building_ref
        incident.intruder_since.setdefault(inside.building_ref, at)
    if was is not None and was not in incident.intruders.values():
        incident.intruder_since.pop(was, None)


def _intruder_cleared(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        ref = cast(IntruderClearedPayload, event.payload)["building_ref"]
        incident.intruders = {r: b for r, b in incident.intruders.items() if b != ref}
        incident.intruder_since.pop(ref, None)


APPLIERS: dict[str, Applier] = {"intruder.cleared": _intruder_cleared}
