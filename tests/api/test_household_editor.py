"""The admin's household editor over the real API: a whole household saved as differences.

A save stores household.updated / person.updated / person.added only for what changed; a
bad field is a 422 whose `errors` name the field's path, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import httpx

from konenut.domain.roles import Role

from .conftest import Site, assert_problem


def household(site: Site, household_id: str) -> dict[str, Any]:
    answer = site.get(f"/api/v1/site/households/{household_id}", Role.ADMIN)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def as_edited(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The body the editor sends for the household as it is, with `changes`."""
    members = [
        {
            "person_id": m["person_id"],
            "ref": m["ref"],
            "name": m["name"],
            "age_group": m["age_group"],
            "languages": m["languages"],
            "phone": m["phone"],
            "special_needs": m["special_needs"],
        }
        for m in current["members"]
    ]
    body = {
        "name": current["name"],
        "building_ref": current["building_ref"],
        "safe_room": current["safe_room"],
        "languages": current["languages"],
        "foreman_person_ref": current["foreman_person_ref"],
        "pets": current["pets"],
        "members": members,
    }
    return {**body, **changes}


def save(site: Site, household_id: str, body: dict[str, Any]) -> httpx.Response:
    return site.call("PUT", f"/api/v1/site/households/{household_id}", Role.ADMIN, json=body)


def fresh_household(site: Site, ref: str) -> str:
    added = site.post("/api/v1/site/households", Role.ADMIN, json={"ref": ref, "name": "Mizrahi"})
    assert added.status_code == 201, added.text
    return str(added.json()["household_id"])


def test_a_save_stores_only_the_differences(site: Site) -> None:
    household_id = fresh_household(site, "ed-1")
    first = as_edited(
        household(site, household_id),
        building_ref="7",
        members=[
            {"name": "Avi Mizrahi", "phone": "050-123 4567"},
            {"name": "Noa Mizrahi", "age_group": "child", "special_needs": ["hearing"]},
        ],
    )
    before = site.head()
    answer = save(site, household_id, first)
    assert answer.status_code == 201, answer.text
    types = [e.type for e in site.events_after(before)]
    assert types == ["household.updated", "person.added", "person.added"]
    now = household(site, household_id)
    assert now["building_ref"] == "7"
    avi, noa = sorted(now["members"], key=lambda m: str(m["name"]))
    assert avi["phone"] == "+972501234567"  # a local mobile number, stored in E.164
    assert avi["ref"] == "ed-1-1" and noa["ref"] == "ed-1-2"
    assert noa["special_needs"] == ["hearing"] and noa["languages"] == ["he"]

    # The same household again: nothing changed, nothing stored.
    before = site.head()
    again = save(site, household_id, as_edited(now))
    assert again.status_code == 200, again.text
    assert site.events_after(before) == []

    # One member's phone and needs: one person.updated; a member left out leaves the house.
    changed = as_edited(now)
    kept = next(m for m in changed["members"] if m["name"] == "Avi Mizrahi")
    kept.update(phone="+972529876543", special_needs=["mobility", "medical"])
    changed["members"] = [kept]
    before = site.head()
    assert save(site, household_id, changed).status_code == 201
    events = site.events_after(before)
    assert [e.type for e in events] == ["person.updated", "person.updated"]
    assert events[0].payload["phone"] == "+972529876543"
    assert "household_id" not in events[1].payload  # Noa no longer lives here
    members = household(site, household_id)["members"]
    assert [(m["name"], m["special_needs"]) for m in members] == [
        ("Avi Mizrahi", ["mobility", "medical"])
    ]


def test_bad_fields_name_their_path_and_store_nothing(site: Site) -> None:
    household_id = fresh_household(site, "ed-2")
    current = household(site, household_id)
    cases = [
        (as_edited(current, members=[{"name": "Dana", "phone": "12ab"}]), "body.members.0.phone"),
        (as_edited(current, building_ref="no-such-house"), "body.building_ref"),
        (as_edited(current, foreman_person_ref="nobody"), "body.foreman_person_ref"),
        (as_edited(current, safe_room="cellar"), "body.safe_room"),
        (
            as_edited(current, members=[{"name": "Dana", "special_needs": ["wings"]}]),
            "body.members.0.special_needs.0",
        ),
        (
            as_edited(current, members=[{"person_id": site.member_id, "name": "Miriam"}]),
            "body.members.0.person_id",
        ),
    ]
    for body, loc in cases:
        before = site.head()
        answer = save(site, household_id, body)
        problem = assert_problem(answer, 422, answer.json()["type"].rsplit(":", 1)[1])
        assert loc in [e["loc"] for e in problem["errors"]], problem
        assert site.events_after(before) == [], loc
    assert household(site, household_id)["members"] == []


def test_only_admins_edit_households(site: Site) -> None:
    household_id = fresh_household(site, "ed-3")
    body = as_edited(household(site, household_id), name="Changed")
    for role in (Role.COMMANDER, Role.OPERATOR, Role.RESIDENT):
        answer = site.call("PUT", f"/api/v1/site/households/{household_id}", role, json=body)
        assert_problem(answer, 403, "forbidden")
    assert save(site, "no-such-household", body).status_code == 404
