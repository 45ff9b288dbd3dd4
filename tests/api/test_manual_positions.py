"""Units placed by hand: an operator or commander places a responder who has no GPS (one
who called in on the radio); the position says so, and who placed it. Nobody else may."""

from __future__ import annotations

from typing import Any

from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem

AT_GATE = {"lat": 30.4312, "lon": 34.9655}


def _positions(site: Site) -> dict[str, dict[str, Any]]:
    response = site.get(f"/api/v1/incidents/{site.incident_id}/positions", Role.OPERATOR)
    assert response.status_code == 200, response.text
    return {p["subject_id"]: p for p in response.json()}


def _path(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/positions"


def test_an_operator_places_a_responder_by_hand(site: Site) -> None:
    responder = site.seeded.subjects[Role.RESPONDER]
    operator = site.seeded.subjects[Role.OPERATOR]
    response = site.post(
        _path(site), Role.OPERATOR, json={"location": AT_GATE, "subject_id": responder}
    )
    assert response.status_code == 201, response.text
    [event] = response.json()["events"]
    assert event["type"] == "position.reported"
    assert event["payload"]["subject_id"] == responder
    assert event["payload"]["source"] == "manual"
    placed = _positions(site)[responder]
    assert placed["location"] == AT_GATE
    assert placed["source"] == "manual"
    assert placed["by"] == operator


def test_a_commander_places_a_unit_and_the_units_own_report_replaces_it(site: Site) -> None:
    responder = site.seeded.subjects[Role.RESPONDER]
    placed = site.post(
        _path(site), Role.COMMANDER, json={"location": AT_GATE, "subject_id": responder}
    )
    assert placed.status_code == 201, placed.text
    assert _positions(site)[responder]["source"] == "manual"
    own = site.post(_path(site), Role.RESPONDER, json={"location": HERE})
    assert own.status_code == 201, own.text
    latest = _positions(site)[responder]
    assert (latest["source"], latest["location"], latest["by"]) == ("app", HERE, responder)


def test_a_responder_may_not_place_someone_else(site: Site) -> None:
    head = site.head()
    commander = site.seeded.subjects[Role.COMMANDER]
    for role in (Role.RESPONDER, Role.MEDIC):
        response = site.post(_path(site), role, json={"location": AT_GATE, "subject_id": commander})
        assert_problem(response, 403, "forbidden", "yourself")
    assert commander not in _positions(site)
    assert not [e for e in site.events_after(head) if e.type == "position.reported"]


def test_placing_someone_unknown_is_404_and_stores_nothing(site: Site) -> None:
    head = site.head()
    response = site.post(
        _path(site), Role.OPERATOR, json={"location": AT_GATE, "subject_id": "no-such-person"}
    )
    assert_problem(response, 404, "not-found", "no-such-person")
    assert not [e for e in site.events_after(head) if e.type == "position.reported"]
