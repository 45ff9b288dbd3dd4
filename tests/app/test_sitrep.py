"""The SITREP's figures from a fixed event log, counted by hand here (issue 15 item 2).

The log is folded by the real projection (every payload checked against its registered schema,
as the store checks it): a village of four houses, a squad of five called to the armory, three
threats (one dismissed), four households' answers, hostages in house 3, casualties, supply
requests and tasks. The report is taken at 07:40 site time (05:40 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from konenut.app.sitrep import (
    SHORT_TEXT_MAX_CHARS,
    Hostages,
    SupplyLine,
    TaskLine,
    gather,
    short_text,
)
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict
from konenut.domain.geo import LocalFrame
from konenut.domain.state import SiteState
from konenut.i18n import LANGUAGES

OPENED = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # 07:00 in Israel (UTC+2 in March)
NOW = OPENED + timedelta(minutes=40)
INCIDENT = "inc-1"
ORIGIN = (34.60, 31.40)
FRAME = LocalFrame(ORIGIN)
CONFIGURATION = ("site.configured", "person.added", "household.added")


def _square(east_m: float, north_m: float, side_m: float = 10.0) -> list[list[float]]:
    corners = [(0, 0), (side_m, 0), (side_m, side_m), (0, side_m), (0, 0)]
    return [list(FRAME.lonlat((east_m + x, north_m + y))) for x, y in corners]


def _feature(kind: str, ref: str, ring: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"kind": kind, "ref": ref},
    }


PLAN = {
    "type": "FeatureCollection",
    "features": [
        _feature("boundary", "B", _square(-100, -100, 400)),
        _feature("building", "1", _square(0, 0)),
        _feature("building", "2", _square(100, 0)),
        _feature("building", "3", _square(0, 100)),
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(FRAME.lonlat((50, 50)))},
            "properties": {"kind": "armory", "ref": "R1"},
        },
    ],
}


class _Log:
    """Events folded by the real projection, in seq order, each payload validated."""

    def __init__(self) -> None:
        self.state = SiteState(site_id="alumim")

    def append(
        self,
        type_: str,
        payload: JsonDict,
        *,
        at_min: float = 0,
        actor: str | None = None,
        where_m: tuple[float, float] | None = None,
    ) -> None:
        when = OPENED + timedelta(minutes=at_min)
        location = None
        if where_m is not None:
            lon, lat = FRAME.lonlat(where_m)
            location = {"lon": lon, "lat": lat}
        self.state.apply(
            Event(
                site_id="alumim",
                seq=self.state.seq + 1,
                id=f"e-{self.state.seq + 1}",
                type=type_,
                version=REGISTRY[type_].version,
                incident_id=None if type_ in CONFIGURATION else INCIDENT,
                occurred_at=when,
                recorded_at=when,
                actor=actor,
                device=None,
                location=location,
                payload=REGISTRY[type_].validate(payload),
                drill=False,
            )
        )


def _village() -> _Log:
    log = _Log()
    log.append("site.configured", {"name": "Alumim", "timezone": "Asia/Jerusalem", "plan": PLAN})
    squad = {"p-a": "commander", "p-b": "responder", "p-c": "responder", "p-d": "responder"}
    squad["p-e"] = "medic"
    for person_id, role in squad.items():
        person = {"person_id": person_id, "ref": person_id, "name": person_id, "roles": [role]}
        log.append("person.added", person)
    for ref in ("1", "2", "3", "4"):
        house = {"household_id": f"h-{ref}", "ref": f"h{ref}", "name": f"House {ref}"}
        log.append("household.added", {**house, "building_ref": min(ref, "3")})
    log.append(
        "incident.opened",
        {"incident_id": INCIDENT, "ref": "I-1", "title": "Infiltration", "kind": "infiltration"},
    )
    return log


def _incident(log: _Log) -> None:
    log.append("muster.called", {"muster_id": "m-1", "rally_point_ref": "R1"}, at_min=1)
    for person_id, status, at_min in (("p-a", "coming", 2), ("p-c", "cannot", 3)):
        log.append(
            "responder.status_changed", {"person_id": person_id, "status": status}, at_min=at_min
        )
    log.append("responder.status_changed", {"person_id": "p-b", "status": "in_position"}, at_min=5)
    log.append("position.reported", {"subject_id": "p-b"}, at_min=6, where_m=(40, 40))
    # s-1: three armed hostiles by house 1 at 07:10, moved to house 2 at 07:20.
    hostile = {"sighting_id": "s-1", "category": "hostile", "count": 3, "armed": True}
    log.append("sighting.reported", hostile, at_min=10, where_m=(5, 5))
    moved = {"sighting_id": "s-1", "status": "moved"}
    log.append("sighting.updated", moved, at_min=20, where_m=(104, 4))
    # s-2: two unknown people far from any house at 07:15; s-3 dismissed; s-4 friendly.
    unknown = {"sighting_id": "s-2", "category": "unknown", "count": 2}
    log.append("sighting.reported", unknown, at_min=15, where_m=(280, 280))
    log.append(
        "sighting.reported",
        {"sighting_id": "s-3", "category": "hostile"},
        at_min=12,
        where_m=(0, 0),
    )
    log.append("sighting.updated", {"sighting_id": "s-3", "status": "dismissed"}, at_min=13)
    friendly = {"sighting_id": "s-4", "category": "friendly_unknown"}
    log.append("sighting.reported", friendly, at_min=14, where_m=(0, 0))
    for house, status in (("h-1", "safe"), ("h-2", "need_medic"), ("h-3", "intruder")):
        log.append("household.checked_in", {"household_id": house, "status": status}, at_min=16)
    hostages = {"situation_id": "hs-1", "building_ref": "3", "people_inside": 2}
    log.append("hostage.reported", {**hostages, "attackers_inside": 1}, at_min=18)
    _casualties(log)
    _logistics(log)


def _casualties(log: _Log) -> None:
    for casualty_id, tag, count, category in (
        ("c-1", "C-01", 1, "immediate"),
        ("c-2", "C-02", 2, "delayed"),
        ("c-3", "C-03", 1, None),
    ):
        reported = {"casualty_id": casualty_id, "tag": tag, "count": count, "building_ref": "2"}
        log.append("casualty.reported", reported, at_min=21)
        if category is not None:
            triaged = {"casualty_id": casualty_id, "category": category}
            log.append("casualty.triaged", triaged, at_min=22)


def _logistics(log: _Log) -> None:
    ammunition = {"supply_id": "u-1", "kind": "ammunition", "calibre": "5.56", "quantity": 200}
    log.append("supply.requested", {**ammunition, "urgency": "critical"}, at_min=23)
    water = {"supply_id": "u-2", "kind": "water", "quantity": 10, "urgency": "routine"}
    log.append("supply.requested", water, at_min=24)
    log.append("supply.delivered", {"supply_id": "u-2"}, at_min=30)
    batteries = {"supply_id": "u-3", "kind": "batteries", "quantity": 4, "urgency": "urgent"}
    log.append("supply.requested", {**batteries, "building_ref": "1"}, at_min=25)
    log.append("supply.assigned", {"supply_id": "u-3", "runner_person_id": "p-d"}, at_min=26)
    gate = {"task_id": "t-1", "title": "Shelter check", "assignee_ids": ["p-d"]}
    log.append("task.created", gate, at_min=27)
    late = {"task_id": "t-2", "title": "Open gate 3", "assignee_ids": ["p-b"]}
    log.append("task.created", {**late, "deadline": "2026-03-01T05:30:00.000Z"}, at_min=28)
    done = {"task_id": "t-3", "title": "Bring keys", "assignee_ids": ["p-c"]}
    log.append("task.created", done, at_min=28)
    completed = {"task_id": "t-3", "person_id": "p-c", "assignee_ids": ["p-c"]}
    log.append("task.completed", completed, at_min=29)


@pytest.fixture(scope="module")
def log() -> _Log:
    village = _village()
    _incident(village)
    return village


def test_the_figures_are_those_of_the_log(log: _Log) -> None:
    sitrep = gather(log.state, log.state.incidents[INCIDENT], NOW)
    assert (sitrep.site_name, sitrep.incident_ref, sitrep.title) == (
        "Alumim",
        "I-1",
        "Infiltration",
    )
    assert sitrep.as_of == "2026-03-01T05:40:00.000Z"
    # Called: the commander, three responders and the medic. D and E have not been notified.
    assert sitrep.forces == {"not_notified": 2, "coming": 1, "in_position": 1, "cannot": 1}
    assert [(t.sighting_id, t.count, t.near_ref, t.last_seen_at) for t in sitrep.threats] == [
        ("s-1", 3, "2", "2026-03-01T05:20:00.000Z"),
        ("s-2", 2, None, "2026-03-01T05:15:00.000Z"),
    ]
    assert sitrep.civilians == {
        "safe": 1,
        "need_help": 1,
        "danger": 1,
        "not_home": 0,
        "no_answer": 1,
        "total": 4,
    }
    assert sitrep.hostages == (Hostages("3", 2, 1, "2026-03-01T05:18:00.000Z"),)
    assert sitrep.hostage_people == 2
    assert sitrep.casualties == {"immediate": 1, "delayed": 2, "untriaged": 1}
    assert sitrep.supplies == (
        SupplyLine("ammunition", "5.56", 200, "critical", "open", None),
        SupplyLine("batteries", None, 4, "urgent", "assigned", "1"),
    )
    assert sitrep.tasks == (
        TaskLine("Open gate 3", "open", True, None),
        TaskLine("Shelter check", "open", False, None),
    )
    assert sitrep.marked_buildings == {"2": "need_help", "3": "hostages"}
    assert len(sitrep.units) == 1


def test_the_short_text_says_it_in_english(log: _Log) -> None:
    text = short_text(gather(log.state, log.state.incidents[INCIDENT], NOW), "en")
    assert text == "\n".join(
        [
            "SITREP 07:40 · Infiltration (I-1)",
            "Forces: Not sent yet 2; Coming 1; In position 1; Cannot come 1",
            "Threats: 3 Hostile armed near 2, last seen 07:20; 2 Unknown people, last seen 07:15",
            "Civilians (households): Safe 1; Need help 1; Danger 1; Not home 0; No answer 1; "
            "Hostages 2; 2 held in 3",
            "Casualties: Immediate 1; Delayed 2; Not triaged 1",
            "Open requests: Ammunition 5.56 ×200 (urgent); Batteries ×4 (urgent)",
            "Open tasks: Open gate 3 (overdue); Shelter check",
        ]
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_short_text_fits_in_1000_characters_in_every_language(lang: str) -> None:
    """A long day: 60 threats, 40 requests and 40 tasks still make one short text, whose lists
    say how many they left out."""
    busy = _village()
    _incident(busy)
    for n in range(60):
        threat = {"sighting_id": f"x-{n}", "category": "hostile", "count": 1 + n % 4}
        busy.append("sighting.reported", threat, at_min=30 + n / 10, where_m=(n, 2 * n))
    for n in range(40):
        supply = {"supply_id": f"v-{n}", "kind": "other", "quantity": n + 1}
        busy.append("supply.requested", {**supply, "text": "sandbags"}, at_min=31)
        task = {"task_id": f"w-{n}", "title": f"Clear the east road, block {n}"}
        busy.append("task.created", {**task, "assignee_ids": ["p-b"]}, at_min=31)
    text = short_text(gather(busy.state, busy.state.incidents[INCIDENT], NOW), lang)
    assert 0 < len(text) <= SHORT_TEXT_MAX_CHARS
    assert "+" in text  # the lists were cut, and say by how many
