"""Tasks over the API: given by the commander, accepted and done by the assignee, overdue by
the store's clock; illegal steps, strangers and bad input refused with nothing stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from konenut.domain.ids import format_time, utcnow
from konenut.domain.roles import Role

from .conftest import HERE, Clock, Site, assert_problem


def tasks(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/tasks"


def give(site: Site, to: Role = Role.RESPONDER, **fields: Any) -> str:
    body = {"title": "Open gate 3", "assignee_ids": [site.seeded.subjects[to]], **fields}
    response = site.post(tasks(site), Role.COMMANDER, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["task_id"])


def answer(site: Site, task_id: str, what: str, role: Role, **body: Any) -> Any:
    return site.post(f"{tasks(site)}/{task_id}/{what}", role, json=body)


def listed(site: Site, role: Role) -> dict[str, dict[str, Any]]:
    response = site.get(tasks(site), role)
    assert response.status_code == 200, response.text
    return {t["task_id"]: t for t in response.json()}


def test_given_accepted_done(site: Site) -> None:
    deadline = format_time(utcnow() + timedelta(minutes=10))
    task_id = give(site, deadline=deadline, building_ref="14", location=HERE)
    mine = listed(site, Role.RESPONDER)[task_id]
    assert mine["state"] == "open" and mine["title"] == "Open gate 3"
    assert mine["deadline"] == deadline and mine["overdue"] is False
    accepted = answer(site, task_id, "accept", Role.RESPONDER)
    assert accepted.status_code == 201, accepted.text
    again = answer(site, task_id, "accept", Role.RESPONDER)
    assert again.status_code == 200, again.text  # accepted already: nothing changes
    assert listed(site, Role.COMMANDER)[task_id]["state"] == "accepted"
    done = answer(site, task_id, "done", Role.RESPONDER)
    assert done.status_code == 201, done.text
    task = listed(site, Role.OPERATOR)[task_id]
    assert task["state"] == "done" and task["closed_by"] == site.seeded.subjects[Role.RESPONDER]
    assert list(task["accepted_by"]) == [site.seeded.subjects[Role.RESPONDER]]


def test_overdue_by_the_store_clock(timed: Site, clock: Clock) -> None:
    site = timed
    task_id = give(site, deadline=format_time(clock.now + timedelta(minutes=5)))
    finished = give(site, deadline=format_time(clock.now + timedelta(minutes=5)))
    assert answer(site, finished, "done", Role.RESPONDER).status_code == 201
    assert listed(site, Role.RESPONDER)[task_id]["overdue"] is False
    clock.now += timedelta(minutes=6)
    shown = listed(site, Role.RESPONDER)
    assert shown[task_id]["overdue"] is True
    assert shown[finished]["overdue"] is False  # done in time: never overdue


def test_an_assignee_sees_only_their_own_tasks(site: Site) -> None:
    theirs = give(site, Role.RESPONDER)
    other = give(site, Role.MEDIC)
    assert set(listed(site, Role.RESPONDER)) == {theirs}
    assert set(listed(site, Role.MEDIC)) == {other}
    assert {theirs, other} <= set(listed(site, Role.LIAISON))
    refused = answer(site, other, "accept", Role.RESPONDER)
    assert_problem(refused, 403, "forbidden", "only")
    given = site.post(tasks(site), Role.RESPONDER, json={"title": "x", "assignee_ids": ["a"]})
    assert_problem(given, 403, "forbidden", "create task")
    for role in (Role.RESIDENT, Role.GUEST):
        assert_problem(site.get(tasks(site), role), 403, "forbidden")


@pytest.mark.parametrize(("first", "then"), [("done", "accept"), ("failed", "done")])
def test_illegal_steps_are_409_naming_the_state(site: Site, first: str, then: str) -> None:
    task_id = give(site)
    assert answer(site, task_id, first, Role.RESPONDER, text="gate jammed").status_code == 201
    head = site.head()
    state = "done" if first == "done" else "failed"
    refused = answer(site, task_id, then, Role.COMMANDER)
    assert_problem(refused, 409, "illegal-transition", state)
    assert site.events_after(head) == []


def test_bad_input_is_422_naming_the_field(site: Site) -> None:
    responder = site.seeded.subjects[Role.RESPONDER]
    past = format_time(utcnow() - timedelta(minutes=1))
    head = site.head()
    for body, loc in (
        ({"title": "Open gate 3", "assignee_ids": [responder], "deadline": past}, "deadline"),
        ({"title": "Open gate 3", "assignee_ids": []}, "assignee_ids"),
        ({"title": "Open gate 3", "assignee_ids": ["no-such-person"]}, "assignee_ids"),
        ({"title": "", "assignee_ids": [responder]}, "title"),
        ({"title": "Check", "assignee_ids": [responder], "building_ref": "nope"}, "building_ref"),
    ):
        refused = site.post(tasks(site), Role.COMMANDER, json=body)
        problem = assert_problem(refused, 422, "validation-error")
        assert any(e["loc"].endswith(loc) for e in problem["errors"]), problem
    assert site.events_after(head) == []
