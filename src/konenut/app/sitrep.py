"""The situation report (SITREP): the figures of an incident as of now, and its short text.

`gather` is pure over the site state: forces by state, threats with where and when they were
last seen, civilians by answer and hostages, casualties by triage category, open supply
requests and tasks. `short_text` says it in one language in at most `SHORT_TEXT_MAX_CHARS`, for
an SMS or to read over the radio. The page, the PDF and the map are drawn by reports/sitrep.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from konenut.domain import accountability
from konenut.domain.geo import distance_m
from konenut.domain.ids import format_time, parse_time
from konenut.domain.muster import BOARD_STATES, called_people, latest_muster, person_state
from konenut.domain.state import IncidentView, SiteState
from konenut.domain.supplies import SupplyState
from konenut.domain.tasks import LIVE, is_overdue
from konenut.i18n import catalogue

# An SMS of a few segments, or a minute read out over the radio (issue 15).
SHORT_TEXT_MAX_CHARS = 1000
NEAR_BUILDING_M = 150.0  # a threat further than this from every building is told by its time only
DEFAULT_TIMEZONE = "Asia/Jerusalem"  # as app/routing.py, when the site names none
UNTRIAGED = "untriaged"
CASUALTY_ORDER = ("immediate", "delayed", "minor", "expectant", "dead", UNTRIAGED)
CIVILIAN_ORDER = ("safe", "need_help", "danger", "not_home", "no_answer")
OPEN_SUPPLY = frozenset({SupplyState.OPEN.value, SupplyState.ASSIGNED.value})
# Lists of the short text are cut to these lengths in turn until it fits (the rest is "+N").
SHORT_LIST_CAPS = (8, 5, 3, 2, 1, 0)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Threat:
    """A hostile or unknown group still standing, where and when it was last seen."""

    sighting_id: str
    category: str
    count: int
    armed: bool | None
    status: str
    lon: float
    lat: float
    last_seen_at: str
    near_ref: str | None  # the nearest building within NEAR_BUILDING_M


@dataclass(frozen=True)
class Hostages:
    building_ref: str
    people_inside: int | None
    attackers_inside: int | None
    since: str


@dataclass(frozen=True)
class SupplyLine:
    kind: str
    calibre: str | None
    quantity: int
    urgency: str
    state: str
    building_ref: str | None


@dataclass(frozen=True)
class TaskLine:
    title: str
    state: str
    overdue: bool
    building_ref: str | None


@dataclass(frozen=True)
class Sitrep:
    """An incident's figures as of `as_of` (the store's clock)."""

    as_of: str
    timezone: str
    site_name: str
    incident_id: str
    incident_ref: str
    title: str
    drill: bool
    opened_at: str
    forces: dict[str, int]  # muster state -> people, in board order, only states someone is in
    threats: tuple[Threat, ...]  # most recently seen first
    civilians: dict[str, int]  # household answer bucket -> households, and "total"
    hostages: tuple[Hostages, ...]  # ongoing situations
    casualties: dict[str, int]  # triage category (or "untriaged") -> people
    supplies: tuple[SupplyLine, ...]  # open or on the way, most urgent first
    tasks: tuple[TaskLine, ...]  # open or accepted, overdue first
    # The map's live layers: the squad's last positions (lon, lat), and buildings where help is
    # needed ("danger", "need_help", "hostages") by ref.
    units: tuple[tuple[float, float], ...] = ()
    marked_buildings: dict[str, str] = field(default_factory=dict)
    plan: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def hostage_people(self) -> int:
        return sum(h.people_inside or 0 for h in self.hostages)


def gather(state: SiteState, incident: IncidentView, now: datetime) -> Sitrep:
    """The SITREP of `incident` as of `now`."""
    site = state.site or {}
    rows = accountability.ranked(state, incident)
    held = hostages(incident)
    return Sitrep(
        as_of=format_time(now),
        timezone=str(site.get("timezone") or DEFAULT_TIMEZONE),
        site_name=str(site.get("name") or state.site_id),
        incident_id=incident.incident_id,
        incident_ref=incident.ref,
        title=incident.title,
        drill=incident.drill,
        opened_at=incident.opened_at,
        forces=forces(state, incident),
        threats=threats(state, incident),
        civilians=civilians(rows),
        hostages=held,
        casualties=casualties(incident),
        supplies=supplies(incident),
        tasks=tasks(incident, now),
        units=tuple(
            (float(p.location["lon"]), float(p.location["lat"]))
            for p in list(incident.positions.values())
        ),
        marked_buildings=marked_buildings(rows, held),
        plan=site.get("plan"),
    )


def forces(state: SiteState, incident: IncidentView) -> dict[str, int]:
    """How many of the squad are in each state of the latest call (or, with no call, each
    answer given in the incident)."""
    muster = latest_muster(incident)
    if muster is None:
        counted = Counter(r.status for r in list(incident.responders.values()))
    else:
        people = called_people(state, muster)
        counted = Counter(person_state(incident, muster, p) for p in people)
    return {s: counted[s] for s in BOARD_STATES if counted[s]}


def threats(state: SiteState, incident: IncidentView) -> tuple[Threat, ...]:
    live = [
        s
        for s in list(incident.sightings.values())
        if s.category in accountability.THREATS and s.status in accountability.LIVE_SIGHTING
    ]
    live.sort(key=lambda s: (s.last_seen_at, s.sighting_id), reverse=True)
    return tuple(
        Threat(
            sighting_id=s.sighting_id,
            category=s.category,
            count=s.count,
            armed=s.armed,
            status=s.status,
            lon=float(s.location["lon"]),
            lat=float(s.location["lat"]),
            last_seen_at=s.last_seen_at,
            near_ref=_nearest_building(state, (float(s.location["lon"]), float(s.location["lat"]))),
        )
        for s in live
    )


def _nearest_building(state: SiteState, where: tuple[float, float]) -> str | None:
    near = state.buildings.near(where, NEAR_BUILDING_M)
    if not near:
        return None
    return min(near, key=lambda found: (distance_m(where, found[1]), found[0]))[0]


def civilians(rows: list[accountability.Row]) -> dict[str, int]:
    """Households by their answer's bucket (the accountability board's counts), and the total."""
    counted = Counter(accountability.BUCKETS[row.state] for row in rows)
    return {**{bucket: counted[bucket] for bucket in CIVILIAN_ORDER}, "total": len(rows)}


def marked_buildings(rows: list[accountability.Row], held: tuple[Hostages, ...]) -> dict[str, str]:
    """Buildings to mark on the map: hostages held, else someone in danger or needing help."""
    marked = {
        row.building_ref: accountability.BUCKETS[row.state]
        for row in reversed(rows)  # the board's worst first: it wins when written last
        if row.building_ref and accountability.BUCKETS[row.state] in ("danger", "need_help")
    }
    marked.update({h.building_ref: "hostages" for h in held})
    return marked


def hostages(incident: IncidentView) -> tuple[Hostages, ...]:
    ongoing = [h for h in list(incident.hostages.values()) if h.status == "ongoing"]
    ongoing.sort(key=lambda h: h.reported_at)
    return tuple(
        Hostages(h.building_ref, h.people_inside, h.attackers_inside, h.reported_at)
        for h in ongoing
    )


def casualties(incident: IncidentView) -> dict[str, int]:
    """People by triage category (a group casualty counts each of its people)."""
    counted: Counter[str] = Counter()
    for casualty in list(incident.casualties.values()):
        counted[casualty.category or UNTRIAGED] += casualty.count
    return {c: counted[c] for c in CASUALTY_ORDER if counted[c]}


_URGENCY_RANK = {"critical": 0, "urgent": 1, "routine": 2}


def supplies(incident: IncidentView) -> tuple[SupplyLine, ...]:
    open_ = [s for s in list(incident.supplies.values()) if s.state in OPEN_SUPPLY]
    open_.sort(key=lambda s: (_URGENCY_RANK.get(s.urgency, 3), s.requested_at))
    return tuple(
        SupplyLine(s.kind, s.calibre, s.quantity, s.urgency, s.state, s.building_ref) for s in open_
    )


def tasks(incident: IncidentView, now: datetime) -> tuple[TaskLine, ...]:
    live = [t for t in list(incident.tasks.values()) if t.state in LIVE]
    lines = [
        TaskLine(t.title, t.state, is_overdue(t.state, t.deadline, now), t.building_ref)
        for t in sorted(live, key=lambda t: t.created_at)
    ]
    return tuple(sorted(lines, key=lambda line: not line.overdue))


# --- words ----------------------------------------------------------------------------------
def clock_time(stamp: str, timezone: str) -> str:
    """ "2026-12-08T05:42:10.000Z" -> "07:42" on the site's clock."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    return parse_time(stamp).astimezone(zone).strftime("%H:%M")


def force_label(lang: str, status: str) -> str:
    words = catalogue(lang)
    return words.get(f"muster.state.{status}") or words.get(f"status.{status}") or status


def civilian_label(lang: str, bucket: str) -> str:
    return catalogue(lang).get(f"map.state.{bucket}", bucket)


def casualty_label(lang: str, category: str) -> str:
    words = catalogue(lang)
    key = "casualty.untriaged" if category == UNTRIAGED else f"casualty.category.{category}"
    return words.get(key, category)


def threat_text(lang: str, threat: Threat, timezone: str) -> str:
    words = catalogue(lang)
    what = words[f"sighting.{threat.category}"]
    armed = f" {words['sitrep.armed']}" if threat.armed else ""
    when = clock_time(threat.last_seen_at, timezone)
    if threat.near_ref is None:
        return words["sitrep.threat_at"].format(count=threat.count, what=what + armed, time=when)
    return words["sitrep.threat_near"].format(
        count=threat.count, what=what + armed, place=threat.near_ref, time=when
    )


def hostage_text(lang: str, held: Hostages) -> str:
    people = "?" if held.people_inside is None else str(held.people_inside)
    return catalogue(lang)["sitrep.hostages_in"].format(people=people, place=held.building_ref)


def supply_text(lang: str, line: SupplyLine) -> str:
    words = catalogue(lang)
    item = words.get(f"supply.kind.{line.kind}", line.kind)
    if line.calibre:
        item = f"{item} {line.calibre}"
    urgent = f" ({words['sitrep.urgent']})" if line.urgency != "routine" else ""
    return f"{item} ×{line.quantity}{urgent}"


def task_text(lang: str, line: TaskLine) -> str:
    overdue = f" ({catalogue(lang)['sitrep.overdue']})" if line.overdue else ""
    return f"{line.title}{overdue}"


def headline(lang: str, sitrep: Sitrep) -> str:
    """ "SITREP 07:42 · Infiltration (I-3)", with the drill mark."""
    words = catalogue(lang)
    text = words["sitrep.headline"].format(
        time=clock_time(sitrep.as_of, sitrep.timezone),
        incident=f"{sitrep.title} ({sitrep.incident_ref})",
    )
    return f"{words['sitrep.drill']} · {text}" if sitrep.drill else text


def sections(sitrep: Sitrep, lang: str, cap: int | None = None) -> list[tuple[str, list[str]]]:
    """The report's sections in one language: (heading, items), lists cut to `cap` items."""
    words = catalogue(lang)
    civilians = [f"{civilian_label(lang, b)} {sitrep.civilians[b]}" for b in CIVILIAN_ORDER]
    civilians.append(f"{words['sitrep.hostages']} {sitrep.hostage_people}")
    civilians.extend(_capped([hostage_text(lang, h) for h in sitrep.hostages], cap))
    return [
        (words["sitrep.forces"], [f"{force_label(lang, s)} {n}" for s, n in sitrep.forces.items()]),
        (
            words["sitrep.threats"],
            _capped([threat_text(lang, t, sitrep.timezone) for t in sitrep.threats], cap),
        ),
        (words["sitrep.civilians"], civilians),
        (
            words["sitrep.casualties"],
            [f"{casualty_label(lang, c)} {n}" for c, n in sitrep.casualties.items()],
        ),
        (words["sitrep.requests"], _capped([supply_text(lang, s) for s in sitrep.supplies], cap)),
        (words["sitrep.tasks"], _capped([task_text(lang, t) for t in sitrep.tasks], cap)),
    ]


def short_text(sitrep: Sitrep, lang: str) -> str:
    """The SITREP in one language in at most SHORT_TEXT_MAX_CHARS characters: long lists are
    cut (their count stays), and only then the text itself."""
    none = catalogue(lang)["sitrep.none"]
    for cap in SHORT_LIST_CAPS:
        lines = [headline(lang, sitrep)]
        lines.extend(
            f"{head}: {'; '.join(items) or none}" for head, items in sections(sitrep, lang, cap)
        )
        text = "\n".join(lines)
        if len(text) <= SHORT_TEXT_MAX_CHARS:
            return text
    return text[: SHORT_TEXT_MAX_CHARS - len(ELLIPSIS)] + ELLIPSIS


def _capped(items: list[str], cap: int | None) -> list[str]:
    """The first `cap` items, and "+N" for the rest."""
    if cap is None or len(items) <= cap:
        return items
    return [*items[:cap], f"+{len(items) - cap}"]
