"""Muster calls in the projection: who was called, who saw the call, and each one's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class ResponderView(View):
    person_id: str
    status: str
    eta_secs: int | None = None
    changed_at: str
    location: JsonDict | None = None
    via: str = "app"  # where the answer came from: the escalator confirms it there


class MusterSeenPayload(TypedDict):
    muster_id: str
    person_id: str


class ResponderStatusChangedPayload(TypedDict):
    person_id: str
    status: str
    eta_secs: NotRequired[int]
    via: NotRequired[str]  # absent in answers recorded before there was more than the app


def _muster_called(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        incident.musters.append({**event.payload, "called_at": at(event), "by": event.actor})


def _muster_seen(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(MusterSeenPayload, event.payload)
        incident.seen.setdefault(p["muster_id"], {}).setdefault(p["person_id"], at(event))


def _status_changed(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(ResponderStatusChangedPayload, event.payload)
        incident.responders[p["person_id"]] = ResponderView(
            person_id=p["person_id"],
            status=p["status"],
            eta_secs=p.get("eta_secs"),
            changed_at=at(event),
            location=event.location,
            via=p.get("via", "app"),
        )


APPLIERS: dict[str, Applier] = {
    "muster.called": _muster_called,
    "muster.seen": _muster_seen,
    "responder.status_changed": _status_changed,
}
