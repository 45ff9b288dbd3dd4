"""Civilians in hiding and caution warnings over the API: who is inside, who is warned."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import SITE
from konenut.app.site_file import SiteFileError, site_file_command
from konenut.demo import load_site_plan
from konenut.domain.geo import LocalFrame
from konenut.domain.roles import Role
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature

from .conftest import Site, assert_problem

SQUAD = (Role.COMMANDER, Role.OPERATOR, Role.RESPONDER, Role.MEDIC, Role.LIAISON)


def inc(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}"


def household_in(site: Site, building_ref: str, *ages: str) -> str:
    """A new household living in `building_ref`, with one member per age group given."""
    added = site.post(
        "/api/v1/site/households",
        Role.ADMIN,
        json={
            "ref": f"h-{building_ref}-{len(ages)}",
            "name": "Hiding",
            "building_ref": building_ref,
        },
    )
    assert added.status_code == 201, added.text
    household_id = str(added.json()["household_id"])
    for n, age in enumerate(ages):
        person = site.post(
            "/api/v1/site/people",
            Role.ADMIN,
            json={
                "ref": f"p-{building_ref}-{n}",
                "name": f"Member {n}",
                "household_id": household_id,
                "age_group": age,
            },
        )
        assert person.status_code == 201, person.text
    return household_id


def check_in(site: Site, household_id: str, **body: Any) -> None:
    answer = site.post(
        f"{inc(site)}/households/{household_id}/check-ins", Role.COMMANDER, json=body
    )
    assert answer.status_code == 201, answer.text


def occupancy(site: Site, role: Role = Role.RESPONDER) -> dict[str, dict[str, Any]]:
    response = site.get(f"{inc(site)}/occupancy", role)
    assert response.status_code == 200, response.text
    return {b["building_ref"]: b for b in response.json()["buildings"]}


def test_a_household_hiding_in_house_14_occupies_it_for_the_squad(site: Site) -> None:
    household_id = household_in(site, "14", "adult", "adult")
    assert occupancy(site) == {}  # nobody checked in yet: no one known inside
    check_in(site, household_id, status="safe", people_count=2)
    for role in SQUAD:
        house = occupancy(site, role)["14"]
        assert house["people"] == 2 and house["adults"] == 2 and house["children"] == 0
        assert house["status"] == "safe" and house["intruder"] is False
        assert house["households"] == [household_id] and house["guests"] == []
        assert house["name"] == "House 14" and house["checked_in_at"]
        assert 30.43 < house["location"]["lat"] < 30.44 and 34.96 < house["location"]["lon"] < 34.98


def test_residents_guests_and_volunteers_may_not_see_who_hides_where(site: Site) -> None:
    for role in (Role.RESIDENT, Role.GUEST, Role.VOLUNTEER, Role.ADMIN):
        assert_problem(site.get(f"{inc(site)}/occupancy", role), 403, "forbidden")


def test_not_home_does_not_occupy_and_an_intruder_is_reported_inside(site: Site) -> None:
    away = household_in(site, "13", "adult")
    check_in(site, away, status="not_home")
    attacked = household_in(site, "15", "adult", "child", "infant")
    check_in(site, attacked, status="intruder")
    houses = occupancy(site)
    assert "13" not in houses
    assert houses["15"]["intruder"] is True and houses["15"]["status"] == "intruder"
    assert houses["15"]["people"] == 3 and houses["15"]["children"] == 2


def test_guests_by_a_poster_occupy_their_building(site: Site) -> None:
    poster = site.post("/api/v1/site/guest-posters", Role.OPERATOR, json={"building_ref": "14"})
    assert poster.status_code == 201, poster.text
    guest = site.post(
        "/api/v1/passes/redeem-guest", json={"code": poster.json()["code"], "people_count": 3}
    )
    assert guest.status_code == 201, guest.text
    house = occupancy(site, Role.COMMANDER)["14"]
    assert house["people"] == 3 and house["guests"] == [guest.json()["guest_id"]]
    assert house["adults"] is None  # who they are is not known


def test_occupancy_of_an_unknown_incident_is_404(site: Site) -> None:
    response = site.get("/api/v1/incidents/nope/occupancy", Role.COMMANDER)
    assert response.status_code == 404, response.text


# --- caution warnings -------------------------------------------------------------------------
def house_centre(ref: str) -> tuple[float, float]:
    """(lon, lat) of a building of the demo plan."""
    feature = find_feature(load_site_plan(), [FeatureKind.BUILDING], ref)
    assert feature is not None
    return feature_point(feature["geometry"])


def at(origin: tuple[float, float], north_m: float = 0, east_m: float = 0) -> dict[str, float]:
    """A location so many metres north and east of (lon, lat)."""
    lon, lat = LocalFrame(origin).lonlat((east_m, north_m))
    return {"lat": lat, "lon": lon}


HOUSE_14 = house_centre("14")


def person(site: Site, role: Role) -> str:
    return site.seeded.subjects[role]


def position(site: Site, role: Role, location: dict[str, float]) -> None:
    response = site.post(f"{inc(site)}/positions", role, json={"location": location})
    assert response.status_code == 201, response.text


def sighting(site: Site, location: dict[str, float], category: str = "hostile") -> str:
    response = site.post(
        f"{inc(site)}/sightings",
        Role.COMMANDER,
        json={"location": location, "category": category, "count": 3, "armed": True},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sighting_id"])


def cautions_after(site: Site, seq: int) -> list[dict[str, Any]]:
    return [e.payload for e in site.events_after(seq) if e.type == "caution.raised"]


def test_a_hostile_near_a_hiding_household_warns_the_units_near_it(site: Site) -> None:
    household_id = household_in(site, "14", "adult", "adult")
    check_in(site, household_id, status="safe", people_count=2)
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))  # 60 m south of house 14
    position(site, Role.MEDIC, at(HOUSE_14, north_m=-400))  # far away
    seq = site.head()
    sighting_id = sighting(site, at(HOUSE_14, north_m=-40))
    [caution] = cautions_after(site, seq)
    assert caution["kind"] == "near_civilians" and caution["sighting_id"] == sighting_id
    assert caution["building_refs"] == ["14"]
    assert caution["civilians"] == [{"building_ref": "14", "people": 2, "status": "safe"}]
    assert caution["category"] == "hostile" and caution["count"] == 3
    assert caution["subject_ids"] == [person(site, Role.RESPONDER)]
    # the responder near it and the commander who reported it; not the medic far away
    assert sorted(caution["to_person_ids"]) == sorted(
        [person(site, Role.RESPONDER), person(site, Role.COMMANDER)]
    )
    timeline = f"{inc(site)}/events"
    seen = {role: site.get(timeline, role).json()["events"] for role in Role}
    types = {role: {e["type"] for e in events} for role, events in seen.items()}
    for role in (Role.RESPONDER, Role.COMMANDER, Role.OPERATOR):
        assert "caution.raised" in types[role], role
    for role in (Role.MEDIC, Role.RESIDENT, Role.GUEST, Role.ADMIN):
        assert "caution.raised" not in types[role], role


def test_an_identical_caution_is_not_raised_again_but_a_newcomer_is_warned(site: Site) -> None:
    household_id = household_in(site, "14", "adult")
    check_in(site, household_id, status="safe", people_count=1)
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    sighting_id = sighting(site, at(HOUSE_14, north_m=-40))
    seq = site.head()
    moved = site.post(
        f"{inc(site)}/sightings/{sighting_id}",
        Role.OPERATOR,
        json={"status": "moved", "location": at(HOUSE_14, north_m=-35)},
    )
    assert moved.status_code == 201, moved.text
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-55))
    assert cautions_after(site, seq) == []  # the same warning stands
    position(site, Role.MEDIC, at(HOUSE_14, east_m=50))  # the medic comes near
    [caution] = cautions_after(site, seq)
    assert caution["to_person_ids"] == [person(site, Role.MEDIC)]
    assert caution["building_refs"] == ["14"]


def test_a_check_in_near_a_standing_hostile_raises_a_caution(site: Site) -> None:
    household_id = household_in(site, "14", "adult", "child")
    sighting(site, at(HOUSE_14, north_m=-40))
    seq = site.head()
    answer = site.post(
        f"{inc(site)}/households/{household_id}/check-ins",
        Role.COMMANDER,
        json={"status": "safe", "people_count": 2},
    )
    assert answer.status_code == 201, answer.text
    assert {e["type"] for e in answer.json()["events"]} == {"household.checked_in"}
    [caution] = cautions_after(site, seq)
    assert caution["kind"] == "near_civilians" and caution["building_refs"] == ["14"]


def test_a_residents_check_in_answer_carries_no_caution(site: Site) -> None:
    household = site.seeded.household_id
    moved = site.post(
        "/api/v1/site/households",
        Role.ADMIN,
        json={"ref": "h-14b", "name": "x", "building_ref": "14"},
    )
    assert moved.status_code == 201
    sighting(site, at(HOUSE_14, north_m=-40))
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    answer = site.post(
        f"{inc(site)}/households/{household}/check-ins", Role.RESIDENT, json={"status": "safe"}
    )
    assert answer.status_code == 201, answer.text
    assert [e["type"] for e in answer.json()["events"]] == ["household.checked_in"]


def test_a_friendly_unit_near_an_unknown_group_is_warned(site: Site) -> None:
    seq = site.head()
    position(site, Role.MEDIC, at(HOUSE_14, north_m=-300))
    sighting(site, at(HOUSE_14, north_m=-200), category="unknown")
    [caution] = cautions_after(site, seq)
    assert caution["kind"] == "near_friendly" and caution["building_refs"] == []
    assert person(site, Role.MEDIC) in caution["to_person_ids"]
    [friendly] = caution["friendlies"]
    assert friendly["subject_id"] == person(site, Role.MEDIC)
    assert friendly["callsign"] == "medic-2"


def test_a_friendly_unknown_sighting_warns_nobody(site: Site) -> None:
    household_id = household_in(site, "14", "adult")
    check_in(site, household_id, status="safe", people_count=1)
    seq = site.head()
    sighting(site, at(HOUSE_14, north_m=-40), category="friendly_unknown")
    assert cautions_after(site, seq) == []


HOUSE_15 = house_centre("15")  # 270 m from the conftest's unknown group


def converge_on(site: Site, where: tuple[float, float]) -> None:
    """The responder from the east and the medic from the west, walking at each other."""
    east = {**at(where, north_m=-20, east_m=30), "heading_deg": 270.0, "speed_mps": 2.0}
    west = {**at(where, north_m=-20, east_m=-30), "heading_deg": 90.0, "speed_mps": 2.0}
    position(site, Role.RESPONDER, east)
    position(site, Role.MEDIC, west)


def test_two_units_converging_near_a_threat_from_opposite_sides_are_both_warned(
    site: Site,
) -> None:
    sighting(site, at(HOUSE_15, north_m=-80))
    seq = site.head()
    converge_on(site, HOUSE_15)
    [caution] = [c for c in cautions_after(site, seq) if c["kind"] == "converging"]
    assert sorted(caution["to_person_ids"]) == sorted(
        [person(site, Role.RESPONDER), person(site, Role.MEDIC)]
    )
    assert caution["spot"]["lat"] == pytest.approx(at(HOUSE_15, north_m=-20)["lat"], abs=1e-5)
    assert caution["spot"]["lon"] == pytest.approx(HOUSE_15[0], abs=1e-5)


def test_the_squad_gathering_away_from_any_threat_is_not_warned(site: Site) -> None:
    seq = site.head()
    converge_on(site, HOUSE_15)
    assert cautions_after(site, seq) == []


def test_the_caution_radius_is_a_site_setting(site: Site) -> None:
    household_id = household_in(site, "14", "adult")
    check_in(site, household_id, status="safe", people_count=1)
    seq = site.head()
    far = sighting(site, at(HOUSE_14, north_m=-250))
    assert cautions_after(site, seq) == []
    configured = site.call(
        "PUT",
        "/api/v1/site",
        Role.ADMIN,
        json={"name": "Tel Kinamon", "caution": {"radius_m": 300}},
    )
    assert configured.status_code == 201, configured.text
    assert site.get("/api/v1/site", Role.ADMIN).json()["caution"]["radius_m"] == 300
    check_in(site, household_id, status="safe", people_count=1)
    cautions = cautions_after(site, seq)
    # both the new hostile and the conftest's unknown group (220 m away) are near enough now
    assert {c["sighting_id"] for c in cautions} == {far, site.sighting_id}
    assert all(c["building_refs"] == ["14"] for c in cautions)
    bad = site.call(
        "PUT", "/api/v1/site", Role.ADMIN, json={"name": "Tel Kinamon", "caution": {"radius_m": -1}}
    )
    assert_problem(bad, 422, "validation-error")


# --- entering a house -------------------------------------------------------------------------
def test_entering_a_house_says_who_is_known_inside(site: Site) -> None:
    household_id = household_in(site, "14", "adult", "adult")
    check_in(site, household_id, status="safe", people_count=2)
    entered = site.post(f"{inc(site)}/entering", Role.RESPONDER, json={"building_ref": "14"})
    assert entered.status_code == 201, entered.text
    inside = entered.json()["inside"]
    assert inside["occupied"] is True and inside["people"] == 2 and inside["adults"] == 2
    assert inside["status"] == "safe" and inside["checked_in_at"] and not inside["intruder"]
    [event] = entered.json()["events"]
    assert event["type"] == "responder.entering"
    assert event["payload"] == {"person_id": person(site, Role.RESPONDER), "building_ref": "14"}
    empty = site.post(f"{inc(site)}/entering", Role.MEDIC, json={"building_ref": "13"})
    assert empty.status_code == 201, empty.text
    assert empty.json()["inside"] == {"building_ref": "13", "occupied": False, "intruder": False}


def test_entering_where_an_intruder_was_reported(site: Site) -> None:
    household_id = household_in(site, "15", "adult")
    check_in(site, household_id, status="intruder")
    entered = site.post(f"{inc(site)}/entering", Role.RESPONDER, json={"building_ref": "15"})
    assert entered.json()["inside"]["intruder"] is True


def test_entering_bad_input_stores_nothing(site: Site) -> None:
    seq = site.head()
    url = f"{inc(site)}/entering"
    assert_problem(
        site.post(url, Role.RESPONDER, json={"building_ref": "999"}), 404, "not-found", "999"
    )
    assert_problem(
        site.post(url, Role.RESPONDER, json={"building_ref": ""}), 422, "validation-error"
    )
    assert_problem(site.post(url, Role.RESPONDER, json={}), 422, "validation-error")
    assert_problem(site.post(url, Role.RESIDENT, json={"building_ref": "14"}), 403, "forbidden")
    assert [e.type for e in site.events_after(seq)] == ["audit.access_denied"]


def test_the_site_toml_sets_the_caution_distances(site: Site) -> None:
    toml = {"site": {"name": "Tel Kinamon"}, "caution": {"radius_m": 250, "converge_m": 40}}
    site.store.execute(SITE, site_file_command(toml, None))
    assert site.store.state(SITE).site["caution"] == {"radius_m": 250.0, "converge_m": 40.0}
    with pytest.raises(SiteFileError, match="caution"):
        site_file_command({"site": {"name": "x"}, "caution": {"radius_m": 1e9}}, None)


def test_guests_checking_in_near_a_standing_hostile_raise_a_caution(site: Site) -> None:
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    sighting(site, at(HOUSE_14, north_m=-40))
    seq = site.head()
    poster = site.post("/api/v1/site/guest-posters", Role.OPERATOR, json={"building_ref": "14"})
    guest = site.post(
        "/api/v1/passes/redeem-guest", json={"code": poster.json()["code"], "people_count": 4}
    )
    assert guest.status_code == 201, guest.text
    assert "caution.raised" not in {e["type"] for e in guest.json().get("events", [])}
    [caution] = cautions_after(site, seq)
    assert caution["civilians"] == [{"building_ref": "14", "people": 4, "status": "safe"}]
    assert person(site, Role.RESPONDER) in caution["to_person_ids"]
