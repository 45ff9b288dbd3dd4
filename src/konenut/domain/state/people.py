"""The residents' registry in the projection: people and households, and who lives where."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event
from konenut.domain.state.devices import follow_registry
from konenut.domain.state.view import Applier, View, file_under, unfile

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class PersonView(View):
    person_id: str
    ref: str
    name: str
    roles: list[str]
    phone: str | None = None
    languages: list[str]
    household_id: str | None = None
    callsign: str | None = None
    age_group: str = "adult"
    special_needs: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class HouseholdView(View):
    household_id: str
    ref: str
    name: str
    building_ref: str | None = None
    languages: list[str]
    safe_room: str
    foreman_person_ref: str | None = None
    pets: str | None = None


class PersonUpdatedPayload(TypedDict):
    """What the projection reads of a person.updated payload (beyond the view's fields)."""

    person_id: str


class HouseholdUpdatedPayload(TypedDict):
    """What the projection reads of a household.updated payload (beyond the view's fields)."""

    household_id: str


def _person_added(state: SiteState, event: Event) -> None:
    person = PersonView.model_validate(event.payload)
    previous = state.persons.get(person.person_id)
    if previous is not None:
        unfile(state._members_of, previous.household_id, person.person_id)
    state.persons[person.person_id] = person
    file_under(state._members_of, person.household_id, person.person_id)
    for asset in list(state.assets.values()):
        if asset.holder_person_id is None and asset.holder_ref == person.ref:
            asset.holder_person_id = person.person_id


def _household_added(state: SiteState, event: Event) -> None:
    household = HouseholdView.model_validate(event.payload)
    previous = state.households.get(household.household_id)
    if previous is not None:
        unfile(state._households_in, previous.building_ref, household.household_id)
    state.households[household.household_id] = household
    file_under(state._households_in, household.building_ref, household.household_id)


def _person_updated(state: SiteState, event: Event) -> None:
    """The event carries all the person's fields; those it leaves out are back to default."""
    person_id = cast(PersonUpdatedPayload, event.payload)["person_id"]
    if person_id in state.persons:
        _person_added(state, event)
        follow_registry(state, state.persons[person_id])


def _household_updated(state: SiteState, event: Event) -> None:
    if cast(HouseholdUpdatedPayload, event.payload)["household_id"] in state.households:
        _household_added(state, event)


APPLIERS: dict[str, Applier] = {
    "person.added": _person_added,
    "person.updated": _person_updated,
    "household.added": _household_added,
    "household.updated": _household_updated,
}
