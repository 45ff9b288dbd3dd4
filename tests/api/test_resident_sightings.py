"""A resident's "armed people outside": a sighting from a resident, which the squad decides on."""

from __future__ import annotations

from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem


def test_a_resident_reports_and_learns_nothing_more(site: Site) -> None:
    inc = f"/api/v1/incidents/{site.incident_id}"
    seen = {"category": "hostile", "armed": True, "count": 2, "vehicle": True, "direction_deg": 90}
    # This household has no building on the plan: the place cannot default to "outside".
    head = site.head()
    nowhere = site.post(f"{inc}/sightings", Role.RESIDENT, json=seen)
    assert_problem(nowhere, 422, "validation-error", "location")
    assert site.events_after(head) == []
    reported = site.post(f"{inc}/sightings", Role.RESIDENT, json={**seen, "location": HERE})
    assert reported.status_code == 201, reported.text
    sighting_id = reported.json()["sighting_id"]
    # The squad's view of it stays with the squad.
    assert_problem(site.get(f"{inc}/sightings", Role.RESIDENT), 403, "forbidden")
    listed = {s["sighting_id"]: s for s in site.get(f"{inc}/sightings", Role.OPERATOR).json()}
    assert (
        listed[sighting_id]["source"] == "resident" and listed[sighting_id]["direction_deg"] == 90
    )
    dismissed = site.post(
        f"{inc}/sightings/{sighting_id}", Role.OPERATOR, json={"status": "dismissed"}
    )
    assert dismissed.status_code == 201, dismissed.text
    assert_problem(
        site.post(f"{inc}/sightings/{sighting_id}", Role.RESIDENT, json={"status": "confirmed"}),
        403,
        "forbidden",
    )
