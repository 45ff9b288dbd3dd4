"""Civilians in hiding: who is known to be inside each building during an incident.

Households' latest check-ins and guests' check-ins are the only sources: a building nobody
checked in from is "no one known inside", not "empty". A household that said it is not home
does not occupy its building.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from konenut.domain.geo import Point
from konenut.domain.site_plan import FeatureKind, Plan, feature_point
from konenut.domain.state import IncidentView, PersonView, SiteState

AWAY = "not_home"
# The worst status inside wins the building's status, in this order.
SEVERITY = ("intruder", "smoke", "need_medic", "safe")
CHILD_AGES = ("infant", "child")


@dataclass(frozen=True)
class Occupancy:
    """Who is known to be inside one building: `adults`/`children` only when known."""

    building_ref: str
    name: str
    location: Point | None  # (lon, lat); None when the building is not on the plan
    people: int
    adults: int | None
    children: int | None
    households: list[str]  # household ids
    guests: list[str]  # guest ids
    status: str
    checked_in_at: str  # the latest check-in from inside
    intruder: bool  # someone inside reported an intruder (and no operator cleared it since)
    guest_people: int = 0  # of `people`, those who checked in as guests

    @property
    def residents(self) -> int:
        return self.people - self.guest_people

    def as_json(self) -> dict[str, Any]:
        return {
            "building_ref": self.building_ref,
            "name": self.name,
            "location": (
                {"lat": self.location[1], "lon": self.location[0]} if self.location else None
            ),
            "people": self.people,
            "guest_people": self.guest_people,  # of `people`: guest-reported, unverified
            "adults": self.adults,
            "children": self.children,
            "households": self.households,
            "guests": self.guests,
            "status": self.status,
            "checked_in_at": self.checked_in_at,
            "intruder": self.intruder,
        }


@dataclass
class Inside:
    """Who is known to be inside one building, as its check-ins add up (no name, no place)."""

    people: int = 0
    guest_people: int = 0
    adults: int | None = 0
    children: int | None = 0
    status: str = "safe"
    at: str = ""
    households: list[str] = field(default_factory=list)
    guests: list[str] = field(default_factory=list)

    @property
    def residents(self) -> int:
        return self.people - self.guest_people

    def add(self, people: int, split: tuple[int, int] | None, status: str, at: str) -> None:
        self.people += people
        if split is None or self.adults is None or self.children is None:
            self.adults = self.children = None
        else:
            self.adults += split[0]
            self.children += split[1]
        if SEVERITY.index(status) < SEVERITY.index(self.status):
            self.status = status
        self.at = max(self.at, at)


def _split(members: list[PersonView], people: int) -> tuple[int, int] | None:
    """Adults and children, when the household's members are exactly who checked in."""
    if not members or len(members) != people:
        return None
    children = sum(1 for m in members if m.age_group in CHILD_AGES)
    return people - children, children


# The last plan's buildings: the plan only changes with a new site.configured (a new object),
# and cautions ask for them on every position near a threat.
_last: tuple[object, str, dict[str, tuple[str, Point]]] | None = None


def building_names(plan: Plan, lang: str = "en") -> dict[str, tuple[str, Point]]:
    """Each building's name (in `lang`, else English, else its ref) and centre, by ref."""
    global _last
    if _last is not None and _last[0] is plan and _last[1] == lang:
        return _last[2]
    found: dict[str, tuple[str, Point]] = {}
    for feature in (plan or {}).get("features") or []:
        props = feature.get("properties") or {}
        if props.get("kind") != FeatureKind.BUILDING.value:
            continue
        ref = str(props["ref"])
        name = props.get(f"name_{lang}") or props.get("name_en") or props.get("name") or ref
        found[ref] = (str(name), feature_point(feature["geometry"]))
    _last = (plan, lang, found)
    return found


def gather(state: SiteState, incident: IncidentView, building_ref: str) -> Inside | None:
    """Who is known to be inside one building, from its households' and guests' check-ins
    (the projection files them by building: this reads that building's, never the site's)."""
    found = Inside()
    for household in state.households_in(building_ref):
        answer = incident.checkins.get(household.household_id)
        if answer is None or answer.status == AWAY:
            continue
        own = state.members_of(household.household_id)
        people = answer.people_count if answer.people_count is not None else max(len(own), 1)
        status = _live(incident, household.household_id, answer.status)
        if people == 0 and status != "intruder":
            continue  # "we are 0 here": nobody to shoot by mistake
        found.add(people, _split(own, people), status, answer.at)
        found.households.append(household.household_id)
    for guest in state.guests_in(incident.incident_id, building_ref):
        if guest.merged_into is not None:
            continue  # a merged guest is counted with its household
        if guest.voided_at is not None:
            continue  # an operator voided what its poster brought in
        if guest.status == AWAY:
            continue
        found.add(guest.people_count, None, _live(incident, guest.guest_id, guest.status), guest.at)
        found.guest_people += guest.people_count
        found.guests.append(guest.guest_id)
    return found if found.households or found.guests else None


def occupancy(state: SiteState, incident: IncidentView, lang: str = "en") -> list[Occupancy]:
    """Every building someone is known to be inside, by building ref."""
    refs = {
        household.building_ref
        for household in (state.households.get(h) for h in list(incident.checkins))
        if household is not None and household.building_ref
    }
    refs.update(
        g.building_ref
        for g in list(state.guests.values())
        if g.incident_id == incident.incident_id and g.building_ref
    )
    names = building_names((state.site or {}).get("plan"), lang)
    found = ((ref, gather(state, incident, ref)) for ref in sorted(refs))
    return [_told(ref, inside, names) for ref, inside in found if inside is not None]


def _told(ref: str, found: Inside, names: dict[str, tuple[str, Point]]) -> Occupancy:
    return Occupancy(
        building_ref=ref,
        name=names[ref][0] if ref in names else ref,
        location=names[ref][1] if ref in names else None,
        people=found.people,
        adults=found.adults,
        children=found.children,
        households=found.households,
        guests=found.guests,
        status=found.status,
        checked_in_at=found.at,
        intruder=found.status == "intruder",
        guest_people=found.guest_people,
    )


def _live(incident: IncidentView, reporter: str, status: str) -> str:
    """An intruder report an operator has cleared since counts as safe."""
    return "safe" if status == "intruder" and reporter not in incident.intruders else status


def inside(state: SiteState, incident: IncidentView, building_ref: str) -> Occupancy | None:
    """Who is known to be inside one building, or None: no one known."""
    found = gather(state, incident, building_ref)
    names = building_names((state.site or {}).get("plan"))
    return _told(building_ref, found, names) if found is not None else None
