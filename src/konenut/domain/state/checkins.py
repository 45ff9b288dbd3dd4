"""Households' check-ins in the projection: each one's latest word from its safe room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from konenut.domain.events import Event
from konenut.domain.state.intruders import report_intruder
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class CheckInView(View):
    household_id: str
    status: str
    people_count: int | None = None
    text: str = ""
    injured_count: int | None = None
    severity: str | None = None
    at: str
    via: str = "app"


def _checked_in(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        check_in = CheckInView(**event.payload, at=at(event))
        previous = incident.checkins.get(check_in.household_id)
        if previous is None or previous.at <= check_in.at:
            incident.checkins[check_in.household_id] = check_in
            household = state.households.get(check_in.household_id)
            report_intruder(incident, check_in.household_id, check_in.status, household, at(event))


APPLIERS: dict[str, Applier] = {"household.checked_in": _checked_in}
