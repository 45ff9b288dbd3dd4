"""The accountability board's order: danger first, then the silent ones by risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from konenut.domain import accountability as acc
from konenut.domain.ids import format_time
from konenut.domain.state import (
    CheckInView,
    HouseholdView,
    IncidentView,
    PersonView,
    SightingView,
    SiteState,
)

OPENED = datetime(2026, 10, 7, 6, 30, tzinfo=UTC)
# Buildings along one street, 100 m apart (0.001° of longitude ≈ 95 m at 31.3°N).
LAT = 31.3
PLAN = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[34.0, 31.29], [34.02, 31.29], [34.02, 31.31], [34.0, 31.29]]],
            },
            "properties": {"kind": "boundary", "ref": "B"},
        },
        *(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [34.0 + i * 0.001, LAT]},
                "properties": {"kind": "building", "ref": f"b{i}"},
            }
            for i in range(10)
        ),
    ],
}


def _at(minutes: float) -> str:
    return format_time(OPENED + timedelta(minutes=minutes))


def site(
    households: list[dict[str, Any]], members: list[dict[str, Any]] | None = None
) -> SiteState:
    state = SiteState(site_id="s", site={"name": "Tel Kinamon", "plan": PLAN})
    for h in households:
        view = HouseholdView(languages=["he"], safe_room="in_home", name=h["ref"], **h)
        state.households[view.household_id] = view
    for i, p in enumerate(members or []):
        person = PersonView(
            person_id=f"p{i}", ref=f"p{i}", name=f"P{i}", roles=["resident"], languages=["he"], **p
        )
        state.persons[person.person_id] = person
    state.incidents["i1"] = IncidentView(
        incident_id="i1",
        ref="1",
        title="Infiltration",
        kind="infiltration",
        drill=False,
        opened_at=_at(0),
    )
    return state


def check_in(state: SiteState, household_id: str, status: str, minutes: float) -> None:
    incident = state.incidents["i1"]
    incident.checkins[household_id] = CheckInView(
        household_id=household_id, status=status, at=_at(minutes)
    )


def sighting(state: SiteState, sid: str, building: int, minutes: float, **more: Any) -> None:
    incident = state.incidents["i1"]
    incident.sightings[sid] = SightingView(
        sighting_id=sid,
        category=more.pop("category", "hostile"),
        count=2,
        source="responder",
        location={"lon": 34.0 + building * 0.001, "lat": LAT},
        reported_at=_at(minutes),
        updated_at=_at(minutes),
        **more,
    )


def order(state: SiteState) -> list[str]:
    return [row["ref"] for row in acc.board(state, state.incidents["i1"])["households"]]


def test_danger_first_then_silent_by_risk_then_away_then_safe() -> None:
    state = site(
        [
            {"household_id": "h-safe", "ref": "safe", "building_ref": "b0"},
            {"household_id": "h-away", "ref": "away", "building_ref": "b0"},
            {"household_id": "h-plain", "ref": "plain", "building_ref": "b9"},
            {"household_id": "h-near", "ref": "near", "building_ref": "b3"},
            {
                "household_id": "h-quarters",
                "ref": "quarters",
                "building_ref": "b9",
                "foreman_person_ref": "p9",
            },
            {"household_id": "h-wheelchair", "ref": "wheelchair", "building_ref": "b9"},
            {"household_id": "h-baby", "ref": "baby", "building_ref": "b8"},
            {"household_id": "h-medic", "ref": "medic", "building_ref": "b1"},
            {"household_id": "h-intruder", "ref": "intruder", "building_ref": "b1"},
            {"household_id": "h-smoke", "ref": "smoke", "building_ref": "b1"},
        ],
        [
            {"household_id": "h-wheelchair", "special_needs": ["mobility"]},
            {"household_id": "h-baby", "age_group": "infant"},
        ],
    )
    check_in(state, "h-safe", "safe", 1)
    check_in(state, "h-away", "not_home", 2)
    check_in(state, "h-medic", "need_medic", 3)
    check_in(state, "h-intruder", "intruder", 4)
    check_in(state, "h-smoke", "smoke", 5)
    sighting(state, "s1", building=4, minutes=6)

    board = acc.board(state, state.incidents["i1"])

    assert order(state) == [
        "intruder",
        "smoke",
        "medic",  # danger: the worst first
        "baby",
        "wheelchair",  # special needs: then nearest the sighting (b8 before b9)
        "quarters",  # group housing
        "near",
        "plain",  # nearness to the sighting
        "away",
        "safe",
    ]
    assert board["counts"] == {
        "safe": 1,
        "need_help": 1,
        "danger": 2,
        "not_home": 1,
        "no_answer": 5,
        "total": 10,
    }
    rows = {row["ref"]: row for row in board["households"]}
    assert [r["red"] for r in board["households"][:4]] == [True, True, True, False]
    assert rows["wheelchair"]["reasons"][0] == {"code": "special_needs", "needs": ["mobility"]}
    assert rows["baby"]["reasons"][0] == {"code": "special_needs", "needs": ["infant"]}
    assert {"code": "group_housing"} in rows["quarters"]["reasons"]
    near = rows["near"]["reasons"][0]
    assert near["code"] == "near_sighting" and near["sighting_id"] == "s1"
    assert 90 <= near["distance_m"] <= 100
    assert rows["intruder"]["reasons"] == [{"code": "danger", "status": "intruder"}]
    assert rows["plain"]["state"] == "no_answer" and rows["plain"]["since"] is None
    assert rows["safe"]["since"] == _at(1)


def test_only_the_latest_live_threats_count() -> None:
    state = site(
        [
            {"household_id": "h0", "ref": "h0", "building_ref": "b0"},
            {"household_id": "h9", "ref": "h9", "building_ref": "b9"},
            {"household_id": "hx", "ref": "hx"},  # no building: unknown distance, last
        ]
    )
    sighting(state, "old", building=0, minutes=1, status="dismissed")
    sighting(state, "friend", building=0, minutes=2, category="friendly_unknown")
    sighting(state, "new", building=9, minutes=3)
    assert order(state) == ["h9", "h0", "hx"]
    for extra in range(acc.LATEST_SIGHTINGS):  # five newer ones far away push "new" out
        sighting(state, f"far{extra}", building=0, minutes=10 + extra, category="unknown")
    assert order(state) == ["h0", "h9", "hx"]


def test_no_answer_lists_only_the_silent() -> None:
    state = site([{"household_id": f"h{i}", "ref": f"h{i}"} for i in range(4)])
    check_in(state, "h1", "safe", 1)
    check_in(state, "h2", "intruder", 1)
    assert acc.no_answer(state, state.incidents["i1"]) == ["h0", "h3"]


def test_due_for_recheck() -> None:
    state = site([{"household_id": f"h{i}", "ref": f"h{i}"} for i in range(5)])
    incident = state.incidents["i1"]
    at = OPENED + timedelta(minutes=100)
    assert acc.due_for_recheck(state, incident, at) == []  # off
    incident.recheck_every_mins = 30
    check_in(state, "h0", "safe", 80)  # answered 20 min ago: not due
    check_in(state, "h1", "safe", 60)  # 40 min ago: due
    check_in(state, "h2", "not_home", 10)  # away: never asked again
    check_in(state, "h3", "intruder", 10)  # in danger and silent since: due (proof of life)
    # h4 never answered: due
    assert acc.due_for_recheck(state, incident, at) == ["h1", "h3", "h4"]
    incident.asked["h1"] = _at(90)  # asked 10 min ago: not again yet
    incident.asked_all_at = _at(65)  # everyone asked 35 min ago: does not hold anyone back
    assert acc.due_for_recheck(state, incident, at) == ["h3", "h4"]
    incident.asked_all_at = _at(75)
    assert acc.due_for_recheck(state, incident, at) == []
    later = at + timedelta(minutes=20)  # h0's answer is 40 min old by then
    assert acc.due_for_recheck(state, incident, later) == ["h0", "h1", "h3", "h4"]
    # A fresh incident: nobody is due before the operator sends the first broadcast.
    incident.asked, incident.asked_all_at = {}, None
    incident.checkins.clear()
    assert acc.due_for_recheck(state, incident, OPENED + timedelta(minutes=10)) == []


STATUSES = st.sampled_from([None, "safe", "need_medic", "intruder", "smoke", "not_home"])


@st.composite
def boards(draw: st.DrawFn) -> SiteState:
    count = draw(st.integers(0, 25))
    households = [
        {
            "household_id": f"h{i}",
            "ref": draw(st.sampled_from(["a", "b", "c", f"r{i}"])),  # refs may repeat
            "building_ref": draw(st.none() | st.sampled_from([f"b{n}" for n in range(10)])),
            "foreman_person_ref": draw(st.none() | st.just("p1")),
        }
        for i in range(count)
    ]
    members = [
        {
            "household_id": f"h{draw(st.integers(0, count - 1))}",
            "age_group": draw(st.sampled_from(["infant", "child", "adult", "elderly"])),
            "special_needs": draw(st.lists(st.sampled_from(["mobility", "hearing", "pets"]))),
        }
        for _ in range(draw(st.integers(0, 10)) if count else 0)
    ]
    state = site(households, members)
    for i in range(count):
        status = draw(STATUSES)
        if status is not None:
            check_in(state, f"h{i}", status, draw(st.integers(0, 60)))
    for n in range(draw(st.integers(0, 7))):
        sighting(state, f"s{n}", draw(st.integers(0, 9)), draw(st.integers(0, 60)))
    return state


@given(boards())
def test_every_household_once_in_risk_order(state: SiteState) -> None:
    incident = state.incidents["i1"]
    rows = acc.ranked(state, incident)
    assert sorted(r.household_id for r in rows) == sorted(state.households)
    keys = [r.key for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # a strict total order
    groups = [acc._GROUPS[r.state] for r in rows]
    assert groups == sorted(groups)  # danger, silent, away, safe
    assert all(r.red == (r.state in acc.DANGER) for r in rows)
    silent = [r for r in rows if r.state == acc.NO_ANSWER]
    # Within the silent: special needs before none, then group housing, then nearer first.
    needs = [not any(x["code"] == "special_needs" for x in r.reasons) for r in silent]
    assert needs == sorted(needs)
    counts = acc.board(state, incident)["counts"]
    assert counts["total"] == len(rows) == sum(v for k, v in counts.items() if k != "total")
    assert counts["no_answer"] == len(silent) == len(acc.no_answer(state, incident))
