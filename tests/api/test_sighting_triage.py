"""An operator triages sightings: confirm, dismiss, neutralise, move (a track) and merge
duplicates (counts, labels, photos and places reconcile); bad places and counts are refused."""

from __future__ import annotations

from typing import Any

import pytest

from konenut.domain.geo import LocalFrame
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem

EAST_EDGE = (34.9737929, 30.43)  # (lon, lat) of the demo boundary's easternmost vertex


def east_of_site(metres: float) -> dict[str, float]:
    lon, lat = LocalFrame(EAST_EDGE).lonlat((metres, 0))
    return {"lat": lat, "lon": lon}


def report(site: Site, **fields: Any) -> str:
    body = {"location": HERE, "category": "unknown", **fields}
    made = site.post(f"/api/v1/incidents/{site.incident_id}/sightings", Role.RESPONDER, json=body)
    assert made.status_code == 201, made.text
    return str(made.json()["sighting_id"])


def update(site: Site, sighting_id: str, role: Role = Role.OPERATOR, **body: Any) -> Any:
    path = f"/api/v1/incidents/{site.incident_id}/sightings/{sighting_id}"
    return site.post(path, role, json=body)


def sightings(site: Site) -> dict[str, dict[str, Any]]:
    listed = site.get(f"/api/v1/incidents/{site.incident_id}/sightings", Role.RESPONDER).json()
    return {s["sighting_id"]: s for s in listed}


@pytest.mark.parametrize("status", ["confirmed", "dismissed", "neutralised"])
def test_operator_sets_a_status(shared_site: Site, status: str) -> None:
    sighting = report(shared_site)
    assert update(shared_site, sighting, status=status).status_code == 201
    assert sightings(shared_site)[sighting]["status"] == status


def test_a_move_extends_the_track(shared_site: Site) -> None:
    site = shared_site
    sighting = report(site, category="hostile", count=3)
    first = sightings(site)[sighting]
    assert [p["location"] for p in first["track"]] == [HERE]
    assert first["last_seen_at"] == first["reported_at"]
    there = {"lat": 30.4290, "lon": 34.9690}
    further = {"lat": 30.4285, "lon": 34.9680}
    for where in (there, further):
        assert update(site, sighting, status="moved", location=where).status_code == 201
    moved = sightings(site)[sighting]
    assert moved["status"] == "moved" and moved["location"] == further
    assert [p["location"] for p in moved["track"]] == [HERE, there, further]
    assert moved["last_seen_at"] == moved["track"][-1]["at"] >= first["last_seen_at"]
    assert moved["count"] == 3 and moved["category"] == "hostile"


def test_duplicates_merge_into_one_group(shared_site: Site) -> None:
    site = shared_site
    elsewhere = {"lat": 30.4295, "lon": 34.9700}
    kept = report(site, category="unknown", count=2)
    duplicate = report(site, category="hostile", count=4, armed=True, location=elsewhere)
    assert update(site, duplicate, status="merged", merged_into=kept).status_code == 201
    after = sightings(site)
    group, gone = after[kept], after[duplicate]
    assert gone["status"] == "merged" and gone["merged_into"] == kept
    # One group seen twice: the larger count, the worse label, both places in time order.
    assert group["merged_from"] == [duplicate] and group["status"] == "reported"
    assert (group["count"], group["category"], group["armed"]) == (4, "hostile", True)
    assert [p["location"] for p in group["track"]] == [HERE, elsewhere]
    assert group["location"] == elsewhere


def test_merge_rules(shared_site: Site) -> None:
    site = shared_site
    a, b, c = report(site), report(site), report(site)
    before = site.head()
    cases = [
        (a, {"status": "merged"}, 422, "body.merged_into"),
        (a, {"status": "merged", "merged_into": a}, 422, "body.merged_into"),
        (a, {"status": "confirmed", "merged_into": b}, 422, "body.status"),
        (a, {"status": "moved"}, 422, "body.location"),
    ]
    for sighting, body, status, loc in cases:
        problem = assert_problem(update(site, sighting, **body), status, "validation-error", loc)
        assert [e["loc"] for e in problem["errors"]] == [loc]
    assert site.head() == before
    assert update(site, b, status="merged", merged_into=c).status_code == 201
    before = site.head()
    assert_problem(update(site, a, status="merged", merged_into=b), 409, "conflict", c)
    assert_problem(update(site, b, status="confirmed"), 409, "conflict", "merged")
    assert site.head() == before


def test_only_operators_and_commanders_triage(shared_site: Site) -> None:
    sighting = report(shared_site)
    for role in (Role.RESPONDER, Role.RESIDENT, Role.MEDIC):
        assert_problem(update(shared_site, sighting, role, status="dismissed"), 403, "forbidden")


# --- bad places and counts -----------------------------------------------------------------------
def test_sighting_just_outside_the_fence_is_kept(shared_site: Site) -> None:
    report(shared_site, location=east_of_site(300))  # attackers approaching the fence


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sightings", {"category": "hostile", "location": east_of_site(5_000)}),
        ("/sightings", {"category": "hostile", "location": {"lat": 0, "lon": 0}}),
        ("/positions", {"location": east_of_site(50_000)}),
    ],
    ids=["sighting-5km-out", "sighting-null-island", "position-50km-out"],
)
def test_places_far_off_the_site_are_422(shared_site: Site, path: str, body: Any) -> None:
    site = shared_site
    before = site.head()
    answer = site.post(f"/api/v1/incidents/{site.incident_id}{path}", Role.RESPONDER, json=body)
    problem = assert_problem(answer, 422, "validation-error", "body.location", "outside the site")
    assert problem["errors"][0]["loc"] == "body.location"
    assert site.head() == before


def test_a_move_off_the_site_is_422(shared_site: Site) -> None:
    site = shared_site
    sighting = report(site)
    before = site.head()
    moved = update(site, sighting, status="moved", location=east_of_site(3_000))
    assert_problem(moved, 422, "validation-error", "body.location", "outside the site")
    assert site.head() == before and sightings(site)[sighting]["location"] == HERE


@pytest.mark.parametrize("count", [0, -3, 10_000, 2.5])
def test_impossible_counts_are_422(shared_site: Site, count: Any) -> None:
    site = shared_site
    before = site.head()
    path = f"/api/v1/incidents/{site.incident_id}/sightings"
    body = {"location": HERE, "category": "hostile", "count": count}
    problem = assert_problem(site.post(path, Role.RESPONDER, json=body), 422, "validation-error")
    assert [e["loc"] for e in problem["errors"]] == ["body.count"]
    sighting = report(site)
    answer = update(site, sighting, status="confirmed", count=count)
    problem = assert_problem(answer, 422, "validation-error")
    assert [e["loc"] for e in problem["errors"]] == ["body.count"]
    assert site.head() == before + 1  # the one good report


@pytest.mark.parametrize(
    ("role", "source"),
    [
        (Role.OPERATOR, "war_room"),
        (Role.COMMANDER, "war_room"),
        (Role.RESPONDER, "responder"),
        (Role.MEDIC, "responder"),
        (Role.RESIDENT, "resident"),
    ],
)
def test_a_sighting_says_where_it_came_from(shared_site: Site, role: Role, source: str) -> None:
    path = f"/api/v1/incidents/{shared_site.incident_id}/sightings"
    body = {"location": HERE, "category": "unknown"}
    made = shared_site.post(path, role, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["events"][0]["payload"]["source"] == source
    listed = {s["sighting_id"]: s for s in shared_site.get(path, Role.OPERATOR).json()}
    assert listed[made.json()["sighting_id"]]["source"] == source
