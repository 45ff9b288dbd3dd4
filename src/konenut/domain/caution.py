"""Don't shoot our own: the geometry rules behind caution warnings (issue 6 item 4).

Nearness: a hostile or unknown group seen within `radius_m` of a house with people hiding in
it, or of a friendly unit, warns every unit within that radius of the group; so does an
intruder reported from inside a building (the threat is the building). Convergence: two
friendly units heading for the same spot from different directions are both warned. Aging: how
old a position or sighting is, in the buckets the map shows.

Pure functions over small value types; app/caution.py builds them from the site's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from konenut.domain.geo import LocalFrame, Point, bearing_deg, distance_m, heading, in_bounds
from konenut.domain.ids import parse_time

DEFAULT_RADIUS_M = 150.0
DEFAULT_CONVERGE_M = 50.0
THREATS = ("hostile", "unknown")
LIVE = ("reported", "confirmed", "moved")  # not dismissed, neutralised or merged
FRESH = timedelta(minutes=2)
RECENT = timedelta(minutes=10)
# A unit whose last position is older than this is not assumed to be still there.
UNIT_MAX_AGE = timedelta(minutes=15)
MIN_CROSSING_DEG = 90.0  # "from different directions"
HEAD_ON_DEG = 30.0  # a heading this close to the other unit's bearing points at it


@dataclass(frozen=True)
class Settings:
    radius_m: float = DEFAULT_RADIUS_M
    converge_m: float = DEFAULT_CONVERGE_M


@dataclass(frozen=True)
class Threat:
    """A live hostile or unknown sighting, or (with `building_ref`) an intruder reported inside
    a building."""

    sighting_id: str | None
    where: Point  # (lon, lat)
    category: str
    count: int
    reporter: str | None = None
    building_ref: str | None = None
    since: str | None = None  # an intruder: when its report began (a new report, a new threat)

    @property
    def key(self) -> str:
        """One threat's name, the same for as long as it stands."""
        return self.sighting_id or f"intruder:{self.building_ref}:{self.since}"


@dataclass(frozen=True)
class Unit:
    """A friendly unit's last position; heading in degrees clockwise from north."""

    subject_id: str
    where: Point
    at: str
    callsign: str | None = None
    heading_deg: float | None = None
    speed_mps: float | None = None


@dataclass(frozen=True)
class House:
    """A building with people known to be inside."""

    building_ref: str
    where: Point
    people: int
    status: str
    residents: int = 0
    guests: int = 0  # people who checked in by a guest poster
    checked_in_at: str = ""  # the latest check-in from inside


Near = TypeVar("Near", House, Unit)


@dataclass(frozen=True)
class Nearness:
    """What is within the radius of one threat: houses with people, and friendly units."""

    threat: Threat
    houses: list[House]
    units: list[Unit]

    def recipients(self) -> list[str]:
        """Every unit near the threat, and whoever reported it."""
        found = [u.subject_id for u in self.units]
        if self.threat.reporter and self.threat.reporter not in found:
            found.append(self.threat.reporter)
        return found


def box(centre: Point, reach_m: float) -> Callable[[float, float], bool]:
    """A cheap test for (lon, lat) roughly within `reach_m` of centre (a little generous)."""
    bounds = LocalFrame(centre).bounds(reach_m)
    return lambda lon, lat: in_bounds((lon, lat), bounds)


def within(a: Point, b: Point, radius_m: float) -> bool:
    return distance_m(a, b) <= radius_m


def near(
    threat: Threat, houses: Iterable[House], units: Iterable[Unit], radius_m: float
) -> Nearness | None:
    """The houses and units within `radius_m` of the threat; None when there are neither."""
    close_houses = _nearest_first(threat.where, houses, radius_m)
    close_units = _nearest_first(threat.where, units, radius_m)
    if not close_houses and not close_units:
        return None
    return Nearness(threat, close_houses, close_units)


def _nearest_first(centre: Point, found: Iterable[Near], radius_m: float) -> list[Near]:
    """Those of `found` within `radius_m` of centre, nearest first (each distance once)."""
    measured = [(distance_m(f.where, centre), i, f) for i, f in enumerate(found)]
    return [f for metres, _, f in sorted(measured) if metres <= radius_m]


# --- convergence ------------------------------------------------------------------------------
def angle_between(a_deg: float, b_deg: float) -> float:
    """The smaller angle between two headings, 0-180."""
    diff = abs(a_deg - b_deg) % 360
    return min(diff, 360 - diff)


def moving(unit: Unit) -> bool:
    return unit.heading_deg is not None and (unit.speed_mps is None or unit.speed_mps > 0.2)


def converging(a: Unit, b: Unit, converge_m: float) -> Point | None:
    """The spot two moving units head for from different directions, within `converge_m` of
    both; None when they do not."""
    if not (moving(a) and moving(b)) or a.heading_deg is None or b.heading_deg is None:
        return None
    if angle_between(a.heading_deg, b.heading_deg) <= MIN_CROSSING_DEG:
        return None  # the same way, or nearly: a column, not a crossfire
    apart = distance_m(a.where, b.where)
    head_on = (
        angle_between(a.heading_deg, bearing_deg(a.where, b.where)) <= HEAD_ON_DEG
        and angle_between(b.heading_deg, bearing_deg(b.where, a.where)) <= HEAD_ON_DEG
    )
    if head_on and apart <= 2 * converge_m:
        return ((a.where[0] + b.where[0]) / 2, (a.where[1] + b.where[1]) / 2)
    frame = LocalFrame(a.where)
    bx, by = frame.metres(b.where)
    (dax, day), (dbx, dby) = heading(a.heading_deg), heading(b.heading_deg)
    cross = dax * dby - day * dbx
    if abs(cross) < 1e-9:
        return None
    t = (bx * dby - by * dbx) / cross  # metres a goes along its heading to the crossing
    s = (bx * day - by * dax) / cross  # metres b goes
    if not (0 <= t <= converge_m and 0 <= s <= converge_m):
        return None
    return frame.lonlat((t * dax, t * day))


def converging_with(
    unit: Unit, others: Iterable[Unit], now: datetime, converge_m: float
) -> list[tuple[Unit, Point]]:
    """The fresh units converging with `unit` (itself fresh), and where."""
    if age_bucket(unit.at, now) != "fresh":
        return []
    found = []
    for other in others:
        if other.subject_id == unit.subject_id or age_bucket(other.at, now) != "fresh":
            continue
        spot = converging(unit, other, converge_m)
        if spot is not None:
            found.append((other, spot))
    return found


# --- aging ------------------------------------------------------------------------------------
def age_bucket(at: str, now: datetime) -> str:
    """ "fresh" (under 2 min), "recent" (under 10 min) or "old"; a time ahead counts as fresh."""
    age = now - parse_time(at)
    if age < FRESH:
        return "fresh"
    if age < RECENT:
        return "recent"
    return "old"
