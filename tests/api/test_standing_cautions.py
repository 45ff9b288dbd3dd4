"""Cautions that still stand, for a page opened after they were raised (GET .../cautions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from konenut.domain.ids import utcnow
from konenut.domain.roles import Role

from .conftest import Site, assert_problem, serve_site
from .test_caution import HOUSE_14, at, check_in, household_in, inc, person, position, sighting


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[Site, list[timedelta]]]:
    """A site whose store clock runs `shift[0]` ahead of the wall clock."""
    shift = [timedelta(0)]
    with serve_site(tmp_path, clock=lambda: utcnow() + shift[0]) as site:
        yield site, shift


def standing(site: Site, role: Role) -> list[dict[str, Any]]:
    response = site.get(f"{inc(site)}/cautions", role)
    assert response.status_code == 200, response.text
    cautions: list[dict[str, Any]] = response.json()["cautions"]
    return cautions


def hostile_near_house_14(site: Site) -> str:
    """A hostile 40 m from house 14, where two people hide and the responder stands."""
    household_id = household_in(site, "14", "adult", "adult")
    check_in(site, household_id, status="safe", people_count=2)
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    position(site, Role.MEDIC, at(HOUSE_14, north_m=-400))  # far away: not warned
    return sighting(site, at(HOUSE_14, north_m=-40))


def test_a_unit_gets_the_standing_cautions_that_warned_it(site: Site) -> None:
    sighting_id = hostile_near_house_14(site)
    [caution] = standing(site, Role.RESPONDER)
    assert caution["type"] == "caution.raised" and caution["seq"] > 0
    assert caution["payload"]["sighting_id"] == sighting_id
    assert caution["payload"]["civilians"] == [
        {"building_ref": "14", "people": 2, "status": "safe"}
    ]
    assert person(site, Role.RESPONDER) in caution["payload"]["to_person_ids"]
    for role in (Role.COMMANDER, Role.OPERATOR):
        assert [c["payload"]["caution_id"] for c in standing(site, role)] == [
            caution["payload"]["caution_id"]
        ]
    assert standing(site, Role.MEDIC) == []  # not warned: not told


def test_residents_guests_and_the_admin_desk_may_not_list_cautions(site: Site) -> None:
    hostile_near_house_14(site)
    for role in (Role.RESIDENT, Role.GUEST, Role.ADMIN):
        assert_problem(site.get(f"{inc(site)}/cautions", role), 403, "forbidden")


def test_newest_first_and_gone_once_the_sighting_is_dismissed(site: Site) -> None:
    first = hostile_near_house_14(site)
    second = sighting(site, at(HOUSE_14, east_m=-45), category="unknown")
    cautions = standing(site, Role.RESPONDER)
    assert [c["payload"]["sighting_id"] for c in cautions] == [second, first]
    dismissed = site.post(
        f"{inc(site)}/sightings/{first}", Role.OPERATOR, json={"status": "dismissed"}
    )
    assert dismissed.status_code == 201, dismissed.text
    assert [c["payload"]["sighting_id"] for c in standing(site, Role.RESPONDER)] == [second]


def test_a_caution_older_than_ten_minutes_no_longer_stands(
    clocked: tuple[Site, list[timedelta]],
) -> None:
    site, shift = clocked
    hostile_near_house_14(site)
    shift[0] = timedelta(minutes=9)
    assert len(standing(site, Role.RESPONDER)) == 1
    shift[0] = timedelta(minutes=11)
    assert standing(site, Role.RESPONDER) == []


def test_cautions_of_an_unknown_incident_is_404(site: Site) -> None:
    assert_problem(site.get("/api/v1/incidents/nope/cautions", Role.COMMANDER), 404, "not-found")


def test_no_caution_stands_once_the_incident_is_closed(site: Site) -> None:
    hostile_near_house_14(site)
    assert len(standing(site, Role.COMMANDER)) == 1
    closed = site.post(f"{inc(site)}/close", Role.COMMANDER, json={"summary": "all clear"})
    assert closed.status_code == 201, closed.text
    assert standing(site, Role.COMMANDER) == []
