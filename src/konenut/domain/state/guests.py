"""Guests in the projection: who checked in by a poster, where, and whether they still count."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.state.intruders import report_intruder
from konenut.domain.state.view import Applier, View, at, file_under, incident_of, unfile

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class GuestView(View):
    """Someone who checked in by a guest poster: occupies a building during one incident."""

    guest_id: str
    incident_id: str
    building_ref: str | None = None
    people_count: int = 1
    language: str = "he"
    phone: str | None = None
    status: str = "safe"
    text: str = ""
    checked_in_at: str  # the first check-in; `at` is the latest
    at: str
    merged_into: str | None = None  # a household, once an operator merged the guest into it
    pass_id: str | None = None  # the poster it checked in by
    voided_at: str | None = None  # an operator voided its poster's guests: not on the board


class GuestCheckedInPayload(TypedDict):
    """What the projection reads of a guest.checked_in payload before it makes the view."""

    guest_id: str


class GuestMergedPayload(TypedDict):
    guest_id: str
    household_id: str


class GuestsVoidedPayload(TypedDict):
    guest_ids: list[str]


def guest_place(guest: GuestView) -> tuple[str, str] | None:
    """Where the guest is filed: its incident and building (None: no building given)."""
    return (guest.incident_id, guest.building_ref) if guest.building_ref else None


def _guest_checked_in(state: SiteState, event: Event) -> None:
    if event.incident_id is None:
        return
    previous = state.guests.get(cast(GuestCheckedInPayload, event.payload)["guest_id"])
    first = previous.checked_in_at if previous else at(event)
    guest = GuestView(
        **event.payload, incident_id=event.incident_id, checked_in_at=first, at=at(event)
    )
    if previous is not None:
        guest.merged_into = previous.merged_into
        guest.pass_id = previous.pass_id
        guest.voided_at = previous.voided_at
        unfile(state._guests_in, guest_place(previous), guest.guest_id)
    state.guests[guest.guest_id] = guest
    file_under(state._guests_in, guest_place(guest), guest.guest_id)
    if incident := incident_of(state, event):
        report_intruder(incident, guest.guest_id, guest.status, guest, guest.at)


def _guest_merged(state: SiteState, event: Event) -> None:
    p = cast(GuestMergedPayload, event.payload)
    guest = state.guests.get(p["guest_id"])
    if guest is not None:
        guest.merged_into = p["household_id"]
        if incident := state.incidents.get(guest.incident_id):  # its household speaks for it
            report_intruder(incident, guest.guest_id, "merged", None, at(event))


def _guests_voided(state: SiteState, event: Event) -> None:
    for guest_id in cast(GuestsVoidedPayload, event.payload)["guest_ids"]:
        guest = state.guests.get(guest_id)
        if guest is not None and guest.voided_at is None:
            guest.voided_at = at(event)
            if incident := state.incidents.get(guest.incident_id):  # no longer a report
                report_intruder(incident, guest_id, "voided", None, guest.voided_at)


APPLIERS: dict[str, Applier] = {
    "guest.checked_in": _guest_checked_in,
    "guest.merged": _guest_merged,
    "guests.voided": _guests_voided,
}
