"""Cautions as the field day found them (issue 10 items 2-4): an intruder reported inside is a
threat, a caution is never lost silently, and one caution per unit and threat, not a storm."""

from __future__ import annotations

import time
from typing import Any

import structlog

from helpers import SITE
from konenut.domain.roles import Role

from .conftest import Site, assert_problem
from .test_caution import (
    HOUSE_14,
    at,
    cautions_after,
    check_in,
    house_centre,
    household_in,
    inc,
    occupancy,
    person,
    position,
    sighting,
)
from .test_standing_cautions import standing

HOUSE_31 = house_centre("31")
WALK_M = (187, 160, 140, 100, 60, 20, 5)  # a responder walking to house 31 from the north


def guests_in(site: Site, building_ref: str, people: int) -> None:
    """Guests, `people` of them, checking in by the building's poster."""
    poster = site.post(
        "/api/v1/site/guest-posters", Role.OPERATOR, json={"building_ref": building_ref}
    )
    assert poster.status_code == 201, poster.text
    guest = site.post(
        "/api/v1/passes/redeem-guest", json={"code": poster.json()["code"], "people_count": people}
    )
    assert guest.status_code == 201, guest.text


def intruder_in_31(site: Site) -> str:
    """House 31: two residents report an intruder, then two guests check in there."""
    household_id = household_in(site, "31", "adult", "adult")
    check_in(site, household_id, status="intruder", people_count=2)
    guests_in(site, "31", 2)
    return household_id


def walk_to_31(site: Site, role: Role) -> None:
    for metres in WALK_M:
        position(site, role, at(HOUSE_31, north_m=metres))


def intruder_cautions(site: Site, seq: int) -> list[dict[str, Any]]:
    return [c for c in cautions_after(site, seq) if c["kind"] == "intruder_inside"]


# --- item 2: "someone in the house" is a threat ------------------------------------------------
def test_an_intruder_reported_inside_warns_the_responder_walking_to_the_house(
    site: Site,
) -> None:
    intruder_in_31(site)
    seq = site.head()
    walk_to_31(site, Role.RESPONDER)
    [caution] = intruder_cautions(site, seq)  # once, not once per position
    assert caution["building_ref"] == "31" and caution["to_person_ids"] == [
        person(site, Role.RESPONDER)
    ]
    house = occupancy(site)["31"]
    # "Intruder reported inside house 31; 2 guests and 2 residents checked in there at 07:10"
    assert caution["civilians"][0] == {
        "building_ref": "31",
        "people": 4,
        "status": "intruder",
        "residents": 2,
        "guests": 2,
        "checked_in_at": house["checked_in_at"],
    }
    [friendly] = caution["friendlies"]
    assert friendly["subject_id"] == person(site, Role.RESPONDER)
    [told] = [
        c for c in standing(site, Role.RESPONDER) if c["payload"]["kind"] == "intruder_inside"
    ]
    assert told["payload"]["caution_id"] == caution["caution_id"]
    assert standing(site, Role.MEDIC) == []  # the medic is far away: not told


def test_the_intruder_stops_warning_once_the_household_reports_otherwise(site: Site) -> None:
    household_id = intruder_in_31(site)
    walk_to_31(site, Role.RESPONDER)
    check_in(site, household_id, status="safe", people_count=2)
    seq = site.head()
    walk_to_31(site, Role.MEDIC)
    assert intruder_cautions(site, seq) == []
    assert standing(site, Role.RESPONDER) == []
    assert occupancy(site)["31"]["intruder"] is False


def test_an_operator_clears_the_intruder_report_and_a_new_report_warns_again(
    site: Site,
) -> None:
    household_id = intruder_in_31(site)
    walk_to_31(site, Role.RESPONDER)
    url = f"{inc(site)}/intruder-clearances"
    for role in (Role.RESPONDER, Role.RESIDENT, Role.GUEST):
        assert_problem(site.post(url, role, json={"building_ref": "31"}), 403, "forbidden")
    assert_problem(site.post(url, Role.OPERATOR, json={"building_ref": "999"}), 404, "not-found")
    cleared = site.post(url, Role.OPERATOR, json={"building_ref": "31", "text": "two survivors"})
    assert cleared.status_code == 201, cleared.text
    [event] = cleared.json()["events"]
    assert event["type"] == "intruder.cleared" and event["payload"]["building_ref"] == "31"
    again = site.post(url, Role.OPERATOR, json={"building_ref": "31"})
    assert again.status_code == 200 and again.json()["events"] == []  # nothing left to clear
    assert occupancy(site)["31"]["intruder"] is False
    assert standing(site, Role.RESPONDER) == []
    seq = site.head()
    walk_to_31(site, Role.MEDIC)
    assert intruder_cautions(site, seq) == []
    timeline = f"{inc(site)}/events"
    for role in (Role.RESIDENT, Role.GUEST):
        assert "intruder.cleared" not in {
            e["type"] for e in site.get(timeline, role).json()["events"]
        }
    # Someone inside reports an intruder again: a new threat, everyone near is warned again.
    check_in(site, household_id, status="intruder", people_count=2)
    [caution] = intruder_cautions(site, seq)
    assert sorted(caution["to_person_ids"]) == sorted(
        [person(site, Role.RESPONDER), person(site, Role.MEDIC)]
    )


# --- item 3: never lost silently ---------------------------------------------------------------
def test_a_caution_is_raised_for_more_people_than_an_event_can_count(site: Site) -> None:
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    for n in range(11):  # 5,500 people in one building (a block of flats, a school)
        flat = site.post(
            "/api/v1/site/households",
            Role.ADMIN,
            json={"ref": f"flat-{n}", "name": f"Flat {n}", "building_ref": "14"},
        )
        assert flat.status_code == 201, flat.text
        check_in(site, flat.json()["household_id"], status="safe", people_count=500)
    seq = site.head()
    sighting(site, at(HOUSE_14, north_m=-40))
    [caution] = cautions_after(site, seq)
    assert caution["civilians"] == [{"building_ref": "14", "people": 5000, "status": "safe"}]
    assert person(site, Role.RESPONDER) in caution["to_person_ids"]
    assert occupancy(site, Role.COMMANDER)["14"]["people"] == 5500  # the count itself is kept


def events_within(site: Site, seq: int, type_: str, wait_secs: float = 5.0) -> list[Any]:
    """The events of `type_` after `seq`, waiting for the first (read directly, not through the
    writer: a flush could share the failing batch)."""
    deadline = time.monotonic() + wait_secs
    while True:
        found = [e for e in site.store.read(SITE, seq) if e.type == type_]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_caution_the_database_refuses_is_logged_counted_and_put_before_the_war_room(
    site: Site,
) -> None:
    household_id = household_in(site, "14", "adult", "adult")
    check_in(site, household_id, status="safe", people_count=2)
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    with site.store.writer_engine.begin() as connection:  # the disk says no, to cautions only
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_cautions BEFORE INSERT ON events "
            "WHEN NEW.type = 'caution.raised' "
            "BEGIN SELECT RAISE(ABORT, 'disk refused the caution'); END"
        )
    seq = site.head()
    with structlog.testing.capture_logs() as logs:
        sighting(site, at(HOUSE_14, north_m=-40))
        [failed] = events_within(site, seq, "caution.failed")
    assert failed.payload["triggers"] == ["sighting.reported"]
    assert "disk refused the caution" in failed.payload["reason"]
    assert failed.payload["failures"] == 1
    assert site.get("/readyz").json()["policy_failures"] == {"caution": 1}
    [line] = [entry for entry in logs if entry["event"] == "policy.failed"]
    assert line["log_level"] == "error" and line["failures"] == 1
    assert line["policy"] == "caution"
    assert [e for e in site.store.read(SITE, seq) if e.type == "caution.raised"] == []
    timeline = f"{inc(site)}/events"
    for role in (Role.COMMANDER, Role.OPERATOR):
        assert "caution.failed" in {e["type"] for e in site.get(timeline, role).json()["events"]}
    for role in (Role.RESPONDER, Role.MEDIC, Role.RESIDENT, Role.GUEST):
        assert "caution.failed" not in {
            e["type"] for e in site.get(timeline, role).json()["events"]
        }


# --- item 4: no storms -------------------------------------------------------------------------
def test_one_caution_per_unit_and_threat_updated_as_houses_fill_up(site: Site) -> None:
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    first = household_in(site, "14", "adult")
    check_in(site, first, status="safe", people_count=1)
    seq = site.head()
    sighting(site, at(HOUSE_14, north_m=-40))
    for ref in ("21", "13", "20", "22"):  # the houses around fill up
        check_in(site, household_in(site, ref, "adult"), status="safe", people_count=1)
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-50))
    cautions = cautions_after(site, seq)
    assert len({c["caution_id"] for c in cautions}) == 1  # one caution, told again in place
    assert [len(c["civilians"]) for c in cautions] == [1, 2, 3, 4, 5]
    assert [bool(c.get("updated")) for c in cautions] == [False, True, True, True, True]
    responder = person(site, Role.RESPONDER)
    assert all(responder in c["to_person_ids"] for c in cautions)
    [told] = standing(site, Role.RESPONDER)  # the page shows it once, as last told
    assert len(told["payload"]["civilians"]) == 5


def test_no_caution_warns_nobody(site: Site) -> None:
    household_id = household_in(site, "14", "adult")
    check_in(site, household_id, status="safe", people_count=1)
    seq = site.head()
    reported = site.post(  # a resident reports it: no unit is near, nobody in the squad to tell
        f"{inc(site)}/sightings",
        Role.RESIDENT,
        json={"location": at(HOUSE_14, north_m=-40), "category": "hostile", "count": 2},
    )
    assert reported.status_code == 201, reported.text
    check_in(site, household_id, status="safe", people_count=2)
    assert cautions_after(site, seq) == []
    position(site, Role.MEDIC, at(HOUSE_14, north_m=-60))  # now a unit is near
    [caution] = cautions_after(site, seq)
    assert caution["to_person_ids"] == [person(site, Role.MEDIC)]
