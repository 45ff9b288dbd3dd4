"""A check-in near a threat costs the same in a village and in a town (issue 13, item 1):
the caution rules read the buildings near the threat through the plan's grid, counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from konenut.app.caution import cautions_after
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict
from konenut.domain.geo import LocalFrame
from konenut.domain.ids import new_id
from konenut.domain.state import SiteState

NOW = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
ORIGIN = (34.60, 31.40)  # (lon, lat) of the south-west building
SPACING_M = 25.0
ROWS = 20
BLOCK_COLS = 20  # the village: 400 households; the town adds 3,600 east of it
THREAT_CELL = (10, 5)  # (row, column): the hostile is seen in the village's block
INCIDENT = "inc-1"
CONFIGURATION = ("site.configured", "person.added", "household.added")


def _point(row: int, col: int, north_m: float = 0) -> tuple[float, float]:
    return LocalFrame(ORIGIN).lonlat((col * SPACING_M, row * SPACING_M + north_m))


def _ref(row: int, col: int) -> str:
    return f"{row}-{col}"


class _Log:
    """Events applied to a real projection, in seq order."""

    def __init__(self) -> None:
        self.state = SiteState(site_id="town")

    def append(
        self,
        type_: str,
        payload: JsonDict,
        *,
        actor: str | None = None,
        where: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        seq = self.state.seq + 1
        event = Event(
            site_id="town",
            seq=seq,
            id=new_id(),
            type=type_,
            version=REGISTRY[type_].version,
            incident_id=None if type_ in CONFIGURATION else INCIDENT,
            occurred_at=NOW,
            recorded_at=NOW,
            actor=actor,
            device=None,
            location={"lon": where[0], "lat": where[1]} if where else None,
            payload=payload,
            drill=False,
        )
        self.state.apply(event)
        return {"type": event.type, "incident_id": event.incident_id, "payload": payload}


def _town(cols: int) -> tuple[_Log, str, dict[str, Any]]:
    """A town of ROWS x cols buildings, one household hiding in each; a hostile seen by the
    village block and a responder near it. Answers the log, the household next to the
    hostile, and its check-in."""
    cells = [(row, col) for row in range(ROWS) for col in range(cols)]
    log = _Log()
    buildings = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(_point(row, col))},
            "properties": {"kind": "building", "ref": _ref(row, col)},
        }
        for row, col in cells
    ]
    log.append("site.configured", {"plan": {"type": "FeatureCollection", "features": buildings}})
    log.append(
        "person.added",
        {"person_id": "p-r", "ref": "r", "name": "R", "roles": ["responder"], "languages": ["he"]},
    )
    log.append("incident.opened", {"incident_id": INCIDENT, "ref": "1", "title": "T", "kind": "x"})
    homes: dict[tuple[int, int], str] = {}
    for row, col in cells:
        homes[row, col] = household_id = new_id()
        log.append(
            "household.added",
            {
                "household_id": household_id,
                "ref": _ref(row, col),
                "name": "Hiding",
                "building_ref": _ref(row, col),
                "languages": ["he"],
                "safe_room": "in_home",
            },
        )
        log.append("household.checked_in", {"household_id": household_id, "status": "safe"})
    threat = _point(*THREAT_CELL, north_m=5)
    log.append("position.reported", {"subject_id": "p-r"}, actor="p-r", where=_point(9, 5))
    sighting = {"sighting_id": "s-1", "category": "hostile", "count": 3, "source": "app"}
    log.append("sighting.reported", sighting, actor="p-r", where=threat)
    neighbour = homes[THREAT_CELL[0], THREAT_CELL[1] + 1]
    trigger = log.append(
        "household.checked_in", {"household_id": neighbour, "status": "need_medic"}
    )
    return log, neighbour, trigger


def _check_in_near_the_threat(cols: int) -> tuple[list[dict[str, Any]], int]:
    """The caution a check-in by the hostile calls for, and how many buildings it read."""
    log, _, trigger = _town(cols)
    read_before = log.state.buildings.examined
    cautions = cautions_after(log.state, NOW + timedelta(seconds=1), [trigger])
    told = [{**c.payload, "caution_id": None} for c in cautions]
    return told, log.state.buildings.examined - read_before


def test_a_check_in_near_a_threat_reads_as_many_buildings_in_a_town_ten_times_the_size() -> None:
    village, read_in_village = _check_in_near_the_threat(BLOCK_COLS)
    town, read_in_town = _check_in_near_the_threat(10 * BLOCK_COLS)
    [caution] = village
    assert caution["kind"] == "near_civilians" and caution["to_person_ids"] == ["p-r"]
    assert {"building_ref": "10-6", "people": 1, "status": "need_medic"} in caution["civilians"]
    assert town == village  # the same houses near it, the same warning
    assert read_in_town == read_in_village  # and no more buildings read to find them
    assert read_in_village < ROWS * BLOCK_COLS  # a neighbourhood, not the whole village
