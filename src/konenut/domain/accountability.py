"""Who has not answered: each household's latest check-in, counts, and the silent ones by risk.

Households in danger (intruder, smoke, need a medic) come first of all, flagged red. Then the
silent ones, most at risk first: special needs (mobility, medical, infants, hearing, elderly),
group housing (a foreman: the workers' quarters), nearness to the latest hostile or unknown
sightings, and the longest silence. Then those away, then those safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from konenut.domain.geo import distance_m
from konenut.domain.ids import format_time
from konenut.domain.state import HouseholdView, IncidentView, PersonView, SiteState

NO_ANSWER = "no_answer"
DANGER = ("intruder", "smoke", "need_medic")  # in this order: the worst first
# Count buckets as the board shows them (issue 5 item 6).
BUCKETS = {
    "safe": "safe",
    "need_medic": "need_help",
    "intruder": "danger",
    "smoke": "danger",
    "not_home": "not_home",
    NO_ANSWER: "no_answer",
}
_GROUPS = {**{status: 0 for status in DANGER}, NO_ANSWER: 1, "not_home": 2, "safe": 3}
SPECIAL_NEEDS = ("mobility", "medical", "infants", "hearing")
FRAGILE_AGES = ("infant", "elderly")
THREATS = ("hostile", "unknown")
LIVE_SIGHTING = ("reported", "confirmed", "moved")  # not dismissed, neutralised or merged
LATEST_SIGHTINGS = 5  # "near the last sightings": the few most recently seen


@dataclass(frozen=True)
class Sighting:
    """A threat seen at (lon, lat) at `at`."""

    sighting_id: str
    where: tuple[float, float]
    at: str


@dataclass(frozen=True)
class Row:
    """One household on the board; `key` orders the board (smaller first)."""

    household_id: str
    ref: str
    name: str
    building_ref: str | None
    state: str
    since: str | None  # when it last answered (None: not in this incident)
    via: str | None
    people_count: int | None
    languages: list[str]
    red: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)
    key: tuple[Any, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "ref": self.ref,
            "name": self.name,
            "building_ref": self.building_ref,
            "state": self.state,
            "since": self.since,
            "via": self.via,
            "people_count": self.people_count,
            "languages": self.languages,
            "red": self.red,
            "reasons": self.reasons,
        }


def board(state: SiteState, incident: IncidentView) -> dict[str, Any]:
    """{counts, households}: every household once, in board order."""
    rows = ranked(state, incident)
    counts = dict.fromkeys(dict.fromkeys(BUCKETS.values()), 0)
    for row in rows:
        counts[BUCKETS[row.state]] += 1
    counts["total"] = len(rows)
    return {"counts": counts, "households": [row.as_json() for row in rows]}


def ranked(state: SiteState, incident: IncidentView) -> list[Row]:
    """Every household of the site, in board order."""
    buildings = state.buildings.points
    threats = latest_threats(incident)
    members = _members(state)
    rows = [
        _row(household, incident, members.get(household.household_id, []), buildings, threats)
        for household in list(state.households.values())
    ]
    return sorted(rows, key=lambda row: row.key)


def no_answer(state: SiteState, incident: IncidentView) -> list[str]:
    """Household ids that have not answered in this incident, most at risk first."""
    return [row.household_id for row in ranked(state, incident) if row.state == NO_ANSWER]


def due_for_recheck(state: SiteState, incident: IncidentView, now: datetime) -> list[str]:
    """Proof of life: households silent for `recheck_every_mins` and not asked since then.

    Those who said they are away are not asked again; everyone else, in danger or safe, is.
    """
    every = incident.recheck_every_mins
    if every <= 0 or not incident.is_open:
        return []
    cutoff = format_time(now - timedelta(minutes=every))
    due: list[str] = []
    for household_id in list(state.households):
        answer = incident.checkins.get(household_id)
        if answer is not None and (answer.status == "not_home" or answer.at > cutoff):
            continue
        asked = last_asked(incident, household_id)
        if answer is None and asked is None and incident.opened_at > cutoff:
            continue  # a fresh incident: the first broadcast is the operator's to send
        if asked is None or asked <= cutoff:
            due.append(household_id)
    return due


def last_asked(incident: IncidentView, household_id: str) -> str | None:
    """When the household was last sent a broadcast (to it, or to everyone)."""
    times = [t for t in (incident.asked.get(household_id), incident.asked_all_at) if t]
    return max(times) if times else None


def latest_threats(incident: IncidentView) -> list[Sighting]:
    """The most recently seen hostile or unknown sightings still standing."""
    live = [
        s
        for s in list(incident.sightings.values())
        if s.category in THREATS and s.status in LIVE_SIGHTING
    ]
    live.sort(key=lambda s: (s.updated_at, s.sighting_id), reverse=True)
    return [
        Sighting(s.sighting_id, (float(s.location["lon"]), float(s.location["lat"])), s.updated_at)
        for s in live[:LATEST_SIGHTINGS]
    ]


def nearest(
    where: tuple[float, float] | None, threats: list[Sighting]
) -> tuple[float, Sighting | None]:
    """Metres to the nearest threat (inf when the building or the threats are unknown)."""
    if where is None or not threats:
        return math.inf, None
    return min(((distance_m(where, t.where), t) for t in threats), key=lambda d: d[0])


def needs_of(members: list[PersonView]) -> list[str]:
    """The household's special needs, from its members' needs and age groups, sorted."""
    needs = {n for p in members for n in p.special_needs if n in SPECIAL_NEEDS}
    needs.update(p.age_group for p in members if p.age_group in FRAGILE_AGES)
    return sorted(needs)


def _members(state: SiteState) -> dict[str, list[PersonView]]:
    by_household: dict[str, list[PersonView]] = {}
    for person in list(state.persons.values()):
        if person.household_id is not None:
            by_household.setdefault(person.household_id, []).append(person)
    return by_household


def _row(
    household: HouseholdView,
    incident: IncidentView,
    members: list[PersonView],
    buildings: dict[str, tuple[float, float]],
    threats: list[Sighting],
) -> Row:
    answer = incident.checkins.get(household.household_id)
    status = answer.status if answer is not None else NO_ANSWER
    since = answer.at if answer is not None else None
    reasons: list[dict[str, Any]] = []
    if status in DANGER:
        reasons.append({"code": "danger", "status": status})
        # Within danger: the worst first, then who has waited longest for help.
        risk: tuple[Any, ...] = (DANGER.index(status), since or "")
    elif status == NO_ANSWER:
        risk = _silence_risk(household, members, buildings, threats, reasons)
    else:
        risk = (since or "",)
    return Row(
        household_id=household.household_id,
        ref=household.ref,
        name=household.name,
        building_ref=household.building_ref,
        state=status,
        since=since,
        via=answer.via if answer is not None else None,
        people_count=answer.people_count if answer is not None else None,
        languages=list(household.languages),
        red=status in DANGER,
        reasons=reasons,
        key=(_GROUPS[status], *risk, household.ref, household.household_id),
    )


def _silence_risk(
    household: HouseholdView,
    members: list[PersonView],
    buildings: dict[str, tuple[float, float]],
    threats: list[Sighting],
    reasons: list[dict[str, Any]],
) -> tuple[Any, ...]:
    """The risk keys of a silent household (smaller is riskier); fills in `reasons`."""
    needs = needs_of(members)
    if needs:
        reasons.append({"code": "special_needs", "needs": needs})
    group = household.foreman_person_ref is not None
    if group:
        reasons.append({"code": "group_housing"})
    where = buildings.get(household.building_ref) if household.building_ref else None
    metres, threat = nearest(where, threats)
    if threat is not None:
        near = {"code": "near_sighting", "sighting_id": threat.sighting_id}
        reasons.append({**near, "distance_m": round(metres)})
    return (not needs, not group, metres)
