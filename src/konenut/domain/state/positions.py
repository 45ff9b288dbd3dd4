"""Where each unit was last reported, in the projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class PositionView(View):
    subject_id: str
    callsign: str | None = None
    location: JsonDict
    at: str
    seq: int
    source: str = "app"  # "manual": an operator placed the unit by hand
    by: str | None = None  # who reported it (the placer, for a manual position)


class PositionReportedPayload(TypedDict):
    subject_id: str
    callsign: NotRequired[str]
    source: NotRequired[str]


def _position_reported(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    if incident is None or event.location is None:
        return
    p = cast(PositionReportedPayload, event.payload)
    previous = incident.positions.get(p["subject_id"])
    if previous is not None and previous.at > at(event):
        return  # a late offline report must not move a unit back in time
    incident.positions[p["subject_id"]] = PositionView(
        subject_id=p["subject_id"],
        callsign=p.get("callsign"),
        location=event.location,
        at=at(event),
        seq=event.seq,
        source=p.get("source", "app"),
        by=event.actor,
    )


APPLIERS: dict[str, Applier] = {"position.reported": _position_reported}
