"""Casualties over the API (issue 14, items 1, 2 and 6): opened by a "need a medic" check-in
or a `wounded` status (once), triage and treatment by medics, assignment by the commander, the
states a casualty moves through, who sees what, and bad input refused with nothing stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpers import SITE
from konenut.domain.ids import format_time, utcnow
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem


def inc(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}"


def listed(site: Site, role: Role) -> list[dict[str, Any]]:
    site.flush()  # the casualty a check-in opens is a follow-up command (app/policies.py)
    response = site.get(f"{inc(site)}/casualties", role)
    assert response.status_code == 200, response.text
    return list(response.json())


def need_medic(site: Site, **fields: Any) -> None:
    household = site.seeded.household_id
    body = {"status": "need_medic", "injured_count": 1, "severity": "serious", **fields}
    answer = site.post(f"{inc(site)}/households/{household}/check-ins", Role.RESIDENT, json=body)
    assert answer.status_code == 201, answer.text


def report(site: Site, role: Role = Role.RESPONDER, **fields: Any) -> str:
    body = {"location": HERE, "count": 1, "name": "Avi", "text": "leg wound", **fields}
    answer = site.post(f"{inc(site)}/casualties", role, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["casualty_id"])


def act(site: Site, casualty_id: str, what: str, role: Role, body: dict[str, Any]) -> Any:
    return site.post(f"{inc(site)}/casualties/{casualty_id}/{what}", role, json=body)


def first_medic(site: Site) -> str:
    """The site's other medic (seed_site's), not the one whose token the tests hold."""
    person = site.store.state(SITE).person_by_ref("p-medic")
    assert person is not None
    return person.person_id


def test_a_need_medic_check_in_opens_one_casualty_and_repeats_open_no_other(site: Site) -> None:
    need_medic(site)
    need_medic(site)  # tapped again (a new key): the same casualty
    [casualty] = listed(site, Role.COMMANDER)
    assert casualty["tag"] == "C-01" and casualty["state"] == "reported"
    assert casualty["household_id"] == site.seeded.household_id
    assert casualty["source"] == "resident" and casualty["severity"] == "serious"
    assert casualty["building_ref"] is None or casualty["building_ref"]
    safe = site.post(
        f"{inc(site)}/households/{site.seeded.household_id}/check-ins",
        Role.RESIDENT,
        json={"status": "safe"},
    )
    assert safe.status_code == 201
    assert len(listed(site, Role.COMMANDER)) == 1


def test_a_wounded_status_opens_one_casualty_and_a_resent_one_does_not(site: Site) -> None:
    status = f"{inc(site)}/muster/status"
    for _ in range(2):
        sent = site.post(status, Role.RESPONDER, json={"status": "wounded", "location": HERE})
        assert sent.status_code == 201, sent.text
    [casualty] = listed(site, Role.COMMANDER)
    assert casualty["person_id"] == site.seeded.subjects[Role.RESPONDER]
    assert casualty["name"] == "Responder Levi" and casualty["source"] == "responder"
    assert casualty["location"]["lat"] == HERE["lat"]


def test_the_medic_triages_treats_and_the_commander_assigns(site: Site) -> None:
    casualty_id = report(site)
    medic = site.seeded.subjects[Role.MEDIC]
    triage = {"category": "immediate", "injuries": ["arterial bleeding, left thigh"]}
    assert act(site, casualty_id, "triage", Role.MEDIC, triage).status_code == 201
    applied = format_time(utcnow() - timedelta(minutes=12))
    tourniquet = {"treatment": "tourniquet", "applied_at": applied}
    assert act(site, casualty_id, "treatments", Role.MEDIC, tourniquet).status_code == 201
    assigned = act(site, casualty_id, "assignment", Role.COMMANDER, {"medic_id": medic})
    assert assigned.status_code == 201, assigned.text
    assert act(site, casualty_id, "state", Role.MEDIC, {"state": "treating"}).status_code == 201
    moved = act(site, casualty_id, "place", Role.MEDIC, {"collection_point_ref": "C1"})
    assert moved.status_code == 201, moved.text
    [casualty] = listed(site, Role.MEDIC)
    assert casualty["state"] == "treating" and casualty["category"] == "immediate"
    assert casualty["medic_id"] == medic and casualty["collection_point_ref"] == "C1"
    assert casualty["treatments"][0]["applied_at"] == applied
    assert casualty["triage"][0]["injuries"] == ["arterial bleeding, left thigh"]


def test_an_illegal_transition_is_refused_naming_the_state_and_nothing_is_stored(
    site: Site,
) -> None:
    casualty_id = report(site)
    assert act(site, casualty_id, "state", Role.COMMANDER, {"state": "handed_over"}).is_success
    head = site.head()
    again = act(site, casualty_id, "state", Role.COMMANDER, {"state": "treating"})
    assert_problem(again, 409, "conflict", "handed_over", "treating")
    medic = site.seeded.subjects[Role.MEDIC]
    late = act(site, casualty_id, "assignment", Role.COMMANDER, {"medic_id": medic})
    assert_problem(late, 409, "conflict", "handed_over")
    assert site.events_after(head) == []


def test_a_medic_changes_only_the_unassigned_and_their_own(site: Site) -> None:
    theirs = report(site)
    mine = report(site)
    unassigned = report(site)
    other = first_medic(site)
    assert act(site, theirs, "assignment", Role.COMMANDER, {"medic_id": other}).is_success
    medic = site.seeded.subjects[Role.MEDIC]
    assert act(site, mine, "assignment", Role.COMMANDER, {"medic_id": medic}).is_success
    assert {c["casualty_id"] for c in listed(site, Role.MEDIC)} == {mine, unassigned}
    assert len(listed(site, Role.COMMANDER)) == 3
    head = site.head()
    refused = act(site, theirs, "triage", Role.MEDIC, {"category": "minor"})
    assert_problem(refused, 403, "forbidden", "another medic")
    not_a_medic = act(
        site,
        unassigned,
        "assignment",
        Role.COMMANDER,
        {"medic_id": site.seeded.subjects[Role.RESPONDER]},
    )
    assert_problem(not_a_medic, 422, "validation-error", "medic_id")
    assert site.events_after(head) == []
    # A medic who starts treating an unassigned casualty takes it.
    assert act(site, unassigned, "state", Role.MEDIC, {"state": "treating"}).is_success
    taken = {c["casualty_id"]: c for c in listed(site, Role.COMMANDER)}[unassigned]
    assert taken["medic_id"] == medic and taken["state"] == "treating"


def test_the_list_is_by_category_then_time_waiting(site: Site) -> None:
    minor = report(site)
    immediate = report(site)
    delayed = report(site)
    untriaged = report(site)
    for casualty_id, category in ((minor, "minor"), (immediate, "immediate"), (delayed, "delayed")):
        assert act(site, casualty_id, "triage", Role.MEDIC, {"category": category}).is_success
    order = [c["casualty_id"] for c in listed(site, Role.MEDIC)]
    assert order == [immediate, untriaged, delayed, minor]


def test_the_household_sees_a_medic_is_coming_and_nothing_private(site: Site) -> None:
    need_medic(site, text="my father fell, his leg")
    [casualty] = listed(site, Role.COMMANDER)
    [mine] = listed(site, Role.RESIDENT)
    assert mine["state"] == "reported" and "text" not in mine and "name" not in mine
    medic = site.seeded.subjects[Role.MEDIC]
    body = {"medic_id": medic}
    assert act(site, casualty["casualty_id"], "assignment", Role.COMMANDER, body).is_success
    [mine] = listed(site, Role.RESIDENT)
    assert mine["state"] == "assigned" and mine["medic_name"] is None
    assert "medic_id" not in mine and "triage" not in mine
    other = report(site)
    told = {"medic_id": medic, "tell_household": True}
    assert act(site, casualty["casualty_id"], "assignment", Role.COMMANDER, told).is_success
    [mine] = listed(site, Role.RESIDENT)
    assert mine["medic_name"] == "Medic Levi"
    seen = {c["casualty_id"] for c in listed(site, Role.RESPONDER)}
    assert other in seen
    assert all("name" not in c and "triage" not in c for c in listed(site, Role.RESPONDER))
    for role in (Role.GUEST, Role.VOLUNTEER, Role.ADMIN):
        refused = site.get(f"{inc(site)}/casualties", role)
        assert_problem(refused, 403, "forbidden")


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(site: Site) -> None:
    casualty_id = report(site)
    head = site.head()
    far = site.post(
        f"{inc(site)}/casualties", Role.MEDIC, json={"location": {"lat": 32.08, "lon": 34.78}}
    )
    assert_problem(far, 422, "validation-error", "body.location")
    negative = site.post(
        f"{inc(site)}/casualties", Role.MEDIC, json={"location": HERE, "count": -1}
    )
    body = assert_problem(negative, 422, "validation-error")
    assert any("count" in str(e["loc"]) for e in body["errors"]), body
    nowhere = site.post(f"{inc(site)}/casualties", Role.MEDIC, json={"count": 1})
    assert_problem(nowhere, 422, "validation-error", "body.location")
    future = format_time(utcnow() + timedelta(hours=1))
    tourniquet = {"treatment": "tourniquet", "applied_at": future}
    late = act(site, casualty_id, "treatments", Role.MEDIC, tourniquet)
    body = assert_problem(late, 422, "validation-error", "applied_at")
    assert body["errors"][0]["loc"] == "body.applied_at"
    unknown_point = act(site, casualty_id, "place", Role.MEDIC, {"collection_point_ref": "Z9"})
    assert_problem(unknown_point, 422, "validation-error", "collection_point_ref")
    assert site.events_after(head) == []
