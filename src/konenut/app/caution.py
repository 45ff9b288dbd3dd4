"""Caution warnings: the `caution.raised` events that what was just appended calls for.

A sighting reported or moved, a position, a household's or a guest's check-in (an intruder
reported inside makes the building a threat): once it is appended, whatever appended it, its
policy (app/policies.py) checks the rules of domain/caution.py on the new state and, only when
they call for a caution, runs a follow-up command that decides it again in the writer (so an
identical caution is raised once). The check is kept off the command itself: its response goes
back to whoever sent it, a resident included, who must never see a caution.
Cheap on the hot path, whatever the site's size: a position costs a pass over the live threats
(a handful) and, when it moves with a heading, one over the fresh units; the houses near a
threat come from the plan's R-tree (SiteState.buildings) and each one's occupancy from the
households and guests the projection files under it, never from the whole registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from konenut.app.decisions import Decide, Decision
from konenut.domain import caution as rules
from konenut.domain import occupancy
from konenut.domain.event_types import (
    CAUTION_MAX_BUILDINGS,
    CAUTION_MAX_COUNT,
    CAUTION_MAX_PEOPLE,
    CAUTION_MAX_UNITS,
)
from konenut.domain.events import JsonDict, NewEvent
from konenut.domain.geo import Point, PointIndex, distance_m
from konenut.domain.ids import format_time, new_id, parse_time
from konenut.domain.site_plan import FeatureKind, feature_points
from konenut.domain.state import (
    CAUTION_REPEAT,
    CautionView,
    IncidentView,
    SightingView,
    SiteState,
)

GATE_NEAR_M = 60.0  # a unit this close to a gate is "at the gate"
BUILDING_NEAR_M = 30.0


def settings_of(state: SiteState) -> rules.Settings:
    given = (state.site or {}).get("caution") or {}
    return rules.Settings(
        radius_m=float(given.get("radius_m", rules.DEFAULT_RADIUS_M)),
        converge_m=float(given.get("converge_m", rules.DEFAULT_CONVERGE_M)),
    )


def _point(location: dict[str, Any]) -> Point:
    return float(location["lon"]), float(location["lat"])


def _threat(sighting: SightingView) -> rules.Threat | None:
    live = sighting.status in rules.LIVE and sighting.merged_into is None
    if sighting.category not in rules.THREATS or not live:
        return None
    return rules.Threat(
        sighting.sighting_id,
        _point(sighting.location),
        sighting.category,
        sighting.count,
        sighting.reporter,
    )


def threats_of(state: SiteState, incident: IncidentView) -> list[rules.Threat]:
    """The live sightings, and the buildings an intruder is reported inside."""
    found = (_threat(s) for s in list(incident.sightings.values()))
    return [t for t in found if t is not None] + intruders_of(state, incident)


def intruders_of(state: SiteState, incident: IncidentView) -> list[rules.Threat]:
    """Each building on the plan with a live intruder report (`IncidentView.intruder_since`)."""
    since = dict(incident.intruder_since)
    if not since:
        return []  # the common case, on every position
    buildings = state.buildings.points
    return [
        rules.Threat(None, buildings[ref], "intruder", 1, building_ref=ref, since=at)
        for ref, at in sorted(since.items())
        if ref in buildings
    ]


def units_of(
    incident: IncidentView, now: datetime, around: Point | None = None, reach_m: float = 0
) -> list[rules.Unit]:
    """Friendly units whose last position is recent enough to be assumed still there (and, with
    `around`, roughly within `reach_m` of it: a box test before any trigonometry)."""
    cutoff = format_time(now - rules.UNIT_MAX_AGE)
    box = rules.box(around, reach_m) if around is not None else None
    return [
        _unit(p.subject_id, p.location, p.at, p.callsign)
        for p in list(incident.positions.values())
        if p.at >= cutoff and (box is None or box(p.location["lon"], p.location["lat"]))
    ]


def _unit(subject_id: str, location: dict[str, Any], at: str, callsign: str | None) -> rules.Unit:
    return rules.Unit(
        subject_id,
        _point(location),
        at,
        callsign,
        location.get("heading_deg"),
        location.get("speed_mps"),
    )


def _house(ref: str, where: Point, inside: occupancy.Inside) -> rules.House:
    return rules.House(
        ref, where, inside.people, inside.status, inside.residents, inside.guest_people, inside.at
    )


def _civilian(house: rules.House) -> JsonDict:
    """A house as a caution tells it, counts capped to what the event stores; where an intruder
    is reported, who is known inside."""
    told: JsonDict = {
        "building_ref": house.building_ref,
        "people": min(house.people, CAUTION_MAX_PEOPLE),
        "status": house.status,
    }
    if house.status == "intruder":
        told["residents"] = min(house.residents, CAUTION_MAX_PEOPLE)
        told["guests"] = min(house.guests, CAUTION_MAX_PEOPLE)
        told["checked_in_at"] = house.checked_in_at
    return told


class _Raiser:
    """Turns what the rules found into caution events: one caution per (unit, threat) within
    the repeat window, told again (the same caution_id, `updated`) when what is inside
    changes; never one that warns nobody."""

    def __init__(self, state: SiteState, incident: IncidentView, now: datetime) -> None:
        self.state, self.incident, self.now = state, incident, now
        self.settings = settings_of(state)
        self.events: list[NewEvent] = []
        self.raised: dict[str, CautionView] = {}  # key -> as raised by this command
        self.landmarks: dict[FeatureKind, PointIndex] = {FeatureKind.BUILDING: state.buildings}
        self.inside: dict[str, occupancy.Inside | None] = {}  # by building, once per command

    def _standing(self, key: str) -> CautionView | None:
        """The caution `key` raised within the repeat window, if any."""
        if key in self.raised:
            return self.raised[key]
        previous = self.incident.cautions.get(key)
        now = format_time(self.now)
        if previous is not None and previous.raised_at <= now < _later(previous.raised_at):
            return previous
        return None

    def raise_(
        self,
        key: str,
        recipients: list[str],
        payload: Callable[[], JsonDict],
        civilians: list[JsonDict] | None = None,
    ) -> None:
        """Raise the caution `key` for whoever of `recipients` it has not warned yet, or again
        for everyone it warned when the civilians near it changed; the payload is only built
        then (a standing caution costs no more than its recipients)."""
        civilians = civilians or []
        standing = self._standing(key)
        warned = standing.warned if standing is not None else []
        new = [r for r in recipients if r in self.state.persons and r not in warned]
        changed = standing is not None and civilians != standing.civilians
        to = [*warned, *new] if changed else new
        if not to:
            return
        body = {**payload(), "key": key, "civilians": civilians}
        body["caution_id"] = standing.caution_id if standing is not None else new_id()
        if changed:
            body["updated"] = True
        self.raised[key] = CautionView(
            caution_id=body["caution_id"],
            kind=body["kind"],
            raised_at=standing.raised_at if standing is not None else format_time(self.now),
            last_at=format_time(self.now),
            warned=[*warned, *new],
            civilians=civilians,
        )
        for start in range(0, len(to), CAUTION_MAX_UNITS):  # recipients are never cut off
            self.events.append(
                NewEvent(
                    type="caution.raised",
                    payload={**body, "to_person_ids": to[start : start + CAUTION_MAX_UNITS]},
                    occurred_at=self.now,
                    incident_id=self.incident.incident_id,
                    drill=self.incident.drill,
                )
            )

    def nearness(self, threat: rules.Threat) -> None:
        radius = self.settings.radius_m
        houses = self.houses_near(threat.where)
        found = rules.near(threat, houses, self.units_near(threat.where), radius)
        if found is None:
            return
        nearest = found.houses[:CAUTION_MAX_BUILDINGS]
        self.raise_(
            f"near:{threat.key}",
            found.recipients(),
            partial(self._near, found),
            [_civilian(h) for h in nearest],
        )

    def _near(self, found: rules.Nearness) -> JsonDict:
        threat, units = found.threat, found.units[:CAUTION_MAX_UNITS]
        refs = [h.building_ref for h in found.houses[:CAUTION_MAX_BUILDINGS]]
        told: JsonDict = {
            "building_refs": refs,
            "subject_ids": [u.subject_id for u in units],
            "friendlies": [self._friendly(u) for u in units],
        }
        if threat.building_ref is not None:
            return {**told, "kind": "intruder_inside", "building_ref": threat.building_ref}
        return {
            **told,
            "kind": "near_civilians" if refs else "near_friendly",
            "sighting_id": threat.sighting_id,
            "category": threat.category,
            "count": min(threat.count, CAUTION_MAX_COUNT),
        }

    def convergence(
        self, unit: rules.Unit, units: list[rules.Unit], threats: list[rules.Threat]
    ) -> None:
        """Two units heading for one spot near a threat: a crossfire in the making. (Away from
        any threat it is the squad gathering, at the rally point say: no warning.)"""
        radius = self.settings.radius_m
        for other, spot in rules.converging_with(unit, units, self.now, self.settings.converge_m):
            if not any(rules.within(t.where, spot, radius) for t in threats):
                continue
            pair = sorted([unit.subject_id, other.subject_id])
            self.raise_(
                f"converge:{','.join(pair)}", pair, partial(self._converging, unit, other, spot)
            )

    def _converging(self, unit: rules.Unit, other: rules.Unit, spot: Point) -> JsonDict:
        return {
            "kind": "converging",
            "subject_ids": sorted([unit.subject_id, other.subject_id]),
            "friendlies": [self._friendly(unit), self._friendly(other)],
            "spot": {"lat": spot[1], "lon": spot[0]},
        }

    def _landmarks(self, kind: FeatureKind) -> PointIndex:
        """The plan's features of one kind (its buildings: the index the projection keeps)."""
        if kind not in self.landmarks:
            plan = (self.state.site or {}).get("plan")
            self.landmarks[kind] = PointIndex(feature_points(plan, kind))  # a few gates
        return self.landmarks[kind]

    def houses_near(self, where: Point) -> list[rules.House]:
        """The houses with people inside roughly within the radius of `where` (the plan's index;
        each building's occupancy worked out once per command: threats near one check-in share
        most of their houses)."""
        found = []
        for ref, centre in self.state.buildings.near(where, self.settings.radius_m):
            inside = self.inside_of(ref)
            if inside is not None:
                found.append(_house(ref, centre, inside))
        return found

    def inside_of(self, building_ref: str) -> occupancy.Inside | None:
        if building_ref not in self.inside:
            self.inside[building_ref] = occupancy.gather(self.state, self.incident, building_ref)
        return self.inside[building_ref]

    def units_near(self, where: Point) -> list[rules.Unit]:
        return units_of(self.incident, self.now, where, self.settings.radius_m)

    def _friendly(self, unit: rules.Unit) -> dict[str, Any]:
        """The unit, and the gate (else the building) it is at, if any."""
        found: dict[str, Any] = {"subject_id": unit.subject_id}
        if unit.callsign:
            found["callsign"] = unit.callsign
        for kind, reach in (
            (FeatureKind.GATE, GATE_NEAR_M),
            (FeatureKind.BUILDING, BUILDING_NEAR_M),
        ):
            points = self._landmarks(kind).near(unit.where, reach)
            if not points:
                continue
            ref, where = min(points, key=lambda item: distance_m(item[1], unit.where))
            if distance_m(where, unit.where) <= reach:
                return {**found, "near_kind": kind.value, "near_ref": ref}
        return found


def _later(at: str) -> str:
    return format_time(parse_time(at) + CAUTION_REPEAT)


# --- what each trigger changes (decided on the state with the trigger applied) ---------------
Trigger = dict[str, Any]  # an appended event as the store answers it (event_body)


def _after_sighting(r: _Raiser, event: Trigger) -> None:
    sighting = r.incident.sightings.get(event["payload"]["sighting_id"])
    threat = _threat(sighting) if sighting is not None else None
    if threat is not None:
        r.nearness(threat)


def _after_position(r: _Raiser, event: Trigger) -> None:
    position = r.incident.positions.get(event["payload"]["subject_id"])
    if position is None:
        return
    unit = _unit(position.subject_id, position.location, position.at, position.callsign)
    radius = r.settings.radius_m
    threats = threats_of(r.state, r.incident)
    if not threats:
        return  # the common case: nothing more to compute
    for threat in threats:
        if rules.within(threat.where, unit.where, radius):
            r.nearness(threat)
    if rules.moving(unit):
        # Units converging meet within converge_m of each: within twice that of each other.
        others = units_of(r.incident, r.now, unit.where, 2 * r.settings.converge_m)
        r.convergence(unit, others, threats)


def _after_check_in(r: _Raiser, event: Trigger) -> None:
    p = event["payload"]
    if event["type"] == "household.checked_in":
        household = r.state.households.get(p["household_id"])
        building_ref = household.building_ref if household else None
    else:
        guest = r.state.guests.get(p["guest_id"])
        building_ref = guest.building_ref if guest else None
    where = r.state.buildings.points.get(building_ref) if building_ref else None
    if where is None or building_ref is None:
        return
    threats = threats_of(r.state, r.incident)
    if not threats or r.inside_of(building_ref) is None:
        return
    for threat in threats:
        if rules.within(threat.where, where, r.settings.radius_m):
            r.nearness(threat)


TRIGGERS: dict[str, Callable[[_Raiser, Trigger], None]] = {
    "sighting.reported": _after_sighting,
    "sighting.updated": _after_sighting,
    "position.reported": _after_position,
    "household.checked_in": _after_check_in,
    "guest.checked_in": _after_check_in,
}


def triggers_in(events: Iterable[Trigger]) -> list[Trigger]:
    return [e for e in events if e.get("type") in TRIGGERS and e.get("incident_id")]


def cautions_after(state: SiteState, now: datetime, events: Iterable[Trigger]) -> list[NewEvent]:
    """The caution events that the appended `events` call for (none already standing)."""
    raisers: dict[str, _Raiser] = {}
    for event in triggers_in(events):
        incident = state.incidents.get(event["incident_id"])
        if incident is None or not incident.is_open:
            continue
        if incident.incident_id not in raisers:
            raisers[incident.incident_id] = _Raiser(state, incident, now)
        TRIGGERS[event["type"]](raisers[incident.incident_id], event)
    return [e for r in raisers.values() for e in r.events]


def raise_cautions(events: list[Trigger]) -> Decide:
    """A follow-up command: the cautions that the just-appended `events` call for."""

    def decide(state: SiteState, now: datetime) -> Decision:
        return Decision(cautions_after(state, now, events))

    return decide


def record_failure(triggers: list[Trigger], exc: BaseException, failures: int) -> Decide:
    """A follow-up command: `caution.failed` in each open incident whose caution was lost."""
    reason = f"{type(exc).__name__}: {exc}"[:300]
    types = sorted({t["type"] for t in triggers})

    def decide(state: SiteState, now: datetime) -> Decision:
        incidents = (state.incidents.get(t["incident_id"]) for t in triggers)
        found = {i.incident_id: i for i in incidents if i is not None and i.is_open}
        return Decision(
            [
                NewEvent(
                    type="caution.failed",
                    payload={"reason": reason, "triggers": types, "failures": failures},
                    occurred_at=now,
                    incident_id=incident.incident_id,
                    drill=incident.drill,
                )
                for incident in found.values()
            ]
        )

    return decide
