"""An incident in the projection: everything that happened in it, opened to closed."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.broadcasts import BroadcastView
from konenut.domain.state.casualties import CasualtyView
from konenut.domain.state.cautions import CautionView
from konenut.domain.state.challenge import ChallengeView
from konenut.domain.state.checkins import CheckInView
from konenut.domain.state.hostages import HostageView
from konenut.domain.state.muster import ResponderView
from konenut.domain.state.notifications import NotificationView
from konenut.domain.state.orders import OrderView
from konenut.domain.state.positions import PositionView
from konenut.domain.state.sightings import SightingView
from konenut.domain.state.supplies import SupplyView
from konenut.domain.state.tasks import TaskView
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class IncidentView(View):
    incident_id: str
    ref: str
    title: str
    kind: str
    drill: bool
    opened_at: str
    opened_by: str | None = None
    closed_at: str | None = None
    summary: str = ""
    musters: list[JsonDict] = Field(default_factory=list)
    responders: dict[str, ResponderView] = Field(default_factory=dict)
    positions: dict[str, PositionView] = Field(default_factory=dict)
    sightings: dict[str, SightingView] = Field(default_factory=dict)
    checkins: dict[str, CheckInView] = Field(default_factory=dict)
    orders: dict[str, OrderView] = Field(default_factory=dict)
    notifications: dict[str, NotificationView] = Field(default_factory=dict)
    broadcasts: dict[str, BroadcastView] = Field(default_factory=dict)
    seen: dict[str, dict[str, str]] = Field(default_factory=dict)  # muster -> person -> time
    asset_requests: list[JsonDict] = Field(default_factory=list)
    hostages: dict[str, HostageView] = Field(default_factory=dict)
    supplies: dict[str, SupplyView] = Field(default_factory=dict)
    tasks: dict[str, TaskView] = Field(default_factory=dict)
    casualties: dict[str, CasualtyView] = Field(default_factory=dict)
    # When each household was last asked (a broadcast to it, or to all): an SMS reply 1-5
    # answers it, and proof of life asks again only after `recheck_every_mins` of silence.
    asked: dict[str, str] = Field(default_factory=dict)  # household -> latest broadcast to it
    asked_all_at: str | None = None  # latest broadcast to every household
    recheck_every_mins: int = 0  # 0: proof of life off
    cautions: dict[str, CautionView] = Field(default_factory=dict)  # by key (app/caution.py)
    # Live intruder reports: reporter (household or guest id) -> the building it is in; until
    # the reporter says otherwise or an operator clears the building (intruder.cleared).
    intruders: dict[str, str] = Field(default_factory=dict)
    intruder_since: dict[str, str] = Field(default_factory=dict)  # building -> first live report
    challenge: ChallengeView | None = None
    previous_challenge: ChallengeView | None = None  # answers until its `until`
    safe_word: str | None = None  # what the squad says at a door; residents see it

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class IncidentOpenedPayload(TypedDict):
    incident_id: str
    ref: str
    title: str
    kind: str


class IncidentClosedPayload(TypedDict):
    incident_id: str
    summary: NotRequired[str]


class RecheckSetPayload(TypedDict):
    every_mins: int


def _incident_opened(state: SiteState, event: Event) -> None:
    p = cast(IncidentOpenedPayload, event.payload)
    state.incidents[p["incident_id"]] = IncidentView(
        incident_id=p["incident_id"],
        ref=p["ref"],
        title=p["title"],
        kind=p["kind"],
        drill=event.drill,
        opened_at=at(event),
        opened_by=event.actor,
    )


def _incident_closed(state: SiteState, event: Event) -> None:
    p = cast(IncidentClosedPayload, event.payload)
    incident = state.incidents.get(p["incident_id"])
    if incident is not None:
        incident.closed_at = at(event)
        incident.summary = p.get("summary", "")


def _recheck_set(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        incident.recheck_every_mins = cast(RecheckSetPayload, event.payload)["every_mins"]


APPLIERS: dict[str, Applier] = {
    "incident.opened": _incident_opened,
    "incident.closed": _incident_closed,
    "accountability.recheck_set": _recheck_set,
}
