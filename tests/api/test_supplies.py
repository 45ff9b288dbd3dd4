"""Supply requests over the API: asked from the field, a runner sent, delivered with the
inventory drawn down (on SQLite and PostgreSQL), illegal steps and bad input refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SITE
from konenut.app.site_file import SiteFileError, site_file_command
from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem, serve_site


def supplies(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/supplies"


def ask(site: Site, role: Role = Role.RESPONDER, **fields: Any) -> str:
    body = {"kind": "ammunition", "calibre": "5.56", "quantity": 120, "location": HERE, **fields}
    response = site.post(supplies(site), role, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["supply_id"])


def step(site: Site, supply_id: str, what: str, role: Role, **body: Any) -> Any:
    return site.post(f"{supplies(site)}/{supply_id}/{what}", role, json=body)


def stock(site: Site, role: Role = Role.COMMANDER) -> dict[str, dict[str, Any]]:
    response = site.get("/api/v1/site/inventory", role)
    assert response.status_code == 200, response.text
    return {line["item"]: line for line in response.json()}


def request_of(site: Site, supply_id: str, role: Role = Role.COMMANDER) -> dict[str, Any]:
    listed = site.get(supplies(site), role)
    assert listed.status_code == 200, listed.text
    return next(s for s in listed.json() if s["supply_id"] == supply_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    url = None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    with serve_site(tmp_path, url=url) as site:
        yield site


def test_requested_assigned_delivered_draws_on_the_inventory(any_db_site: Site) -> None:
    site = any_db_site
    counted = site.post(
        "/api/v1/site/inventory",
        Role.ADMIN,
        json={"kind": "ammunition", "calibre": "5.56", "quantity": 500, "low_below": 400},
    )
    assert counted.status_code == 201, counted.text
    assert stock(site)["ammunition:5.56"]["quantity"] == 500
    assert stock(site)["ammunition:5.56"]["low"] is False

    supply_id = ask(site, urgency="critical", building_ref="14", text="north fence")
    asked = request_of(site, supply_id, Role.RESPONDER)
    assert asked["state"] == "open" and asked["quantity"] == 120 and asked["calibre"] == "5.56"
    assert asked["requested_by"] == site.seeded.subjects[Role.RESPONDER]
    assert asked["location"]["lat"] == HERE["lat"] and asked["building_ref"] == "14"

    runner = site.seeded.subjects[Role.MEDIC]
    sent = step(site, supply_id, "runner", Role.OPERATOR, runner_person_id=runner)
    assert sent.status_code == 201, sent.text
    assert request_of(site, supply_id)["state"] == "assigned"
    assert request_of(site, supply_id)["runner_person_id"] == runner

    arrived = step(site, supply_id, "delivered", Role.MEDIC)  # the runner says so
    assert arrived.status_code == 201, arrived.text
    assert [e["type"] for e in arrived.json()["events"]] == ["supply.delivered"]
    assert request_of(site, supply_id)["state"] == "delivered"
    left = stock(site)["ammunition:5.56"]
    assert left["quantity"] == 380 and left["low"] is True  # 500 - 120, under 400


def test_illegal_steps_are_409_naming_the_state_and_store_nothing(site: Site) -> None:
    supply_id = ask(site)
    head = site.head()
    early = step(site, supply_id, "delivered", Role.COMMANDER)
    assert_problem(early, 409, "illegal-transition", "open", "delivered")
    runner = site.seeded.subjects[Role.RESPONDER]
    assert (
        step(site, supply_id, "runner", Role.COMMANDER, runner_person_id=runner).status_code == 201
    )
    assert step(site, supply_id, "delivered", Role.RESPONDER).status_code == 201
    head = site.head()
    for what, body in (("runner", {"runner_person_id": runner}), ("cancel", {}), ("delivered", {})):
        refused = step(site, supply_id, what, Role.COMMANDER, **body)
        assert_problem(refused, 409, "illegal-transition", "delivered")
    assert site.events_after(head) == []


def test_who_may_change_what(site: Site) -> None:
    """The asker may call a request off, only the runner (or the commander) says it arrived,
    and a responder may not send a runner."""
    supply_id = ask(site, Role.RESPONDER)
    runner = site.seeded.subjects[Role.MEDIC]
    refused = step(site, supply_id, "runner", Role.RESPONDER, runner_person_id=runner)
    assert_problem(refused, 403, "forbidden", "assign supply runner")
    assert (
        step(site, supply_id, "runner", Role.COMMANDER, runner_person_id=runner).status_code == 201
    )
    not_theirs = step(site, supply_id, "delivered", Role.RESPONDER)
    assert_problem(not_theirs, 403, "forbidden", "only")
    other = ask(site, Role.MEDIC)
    assert_problem(step(site, other, "cancel", Role.RESPONDER), 403, "forbidden", "only")
    called_off = step(site, other, "cancel", Role.MEDIC, text="found some")
    assert called_off.status_code == 201, called_off.text
    cancelled = request_of(site, other)
    assert cancelled["state"] == "cancelled" and cancelled["closed_text"] == "found some"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"kind": "ammunition", "calibre": "9mm", "quantity": -5, "location": HERE}, "quantity"),
        ({"kind": "ammunition", "calibre": "9mm", "quantity": 0, "location": HERE}, "quantity"),
        ({"kind": "grenades", "quantity": 2, "location": HERE}, "kind"),
        ({"kind": "ammunition", "quantity": 2, "location": HERE}, "calibre"),
        ({"kind": "water", "calibre": "9mm", "quantity": 2, "location": HERE}, "calibre"),
        ({"kind": "water", "quantity": 2}, "location"),
        ({"kind": "water", "quantity": 2, "building_ref": "no-such-house"}, "building_ref"),
        ({"kind": "water", "quantity": 2, "location": {"lat": 31.5, "lon": 34.5}}, "location"),
    ],
)
def test_bad_requests_are_422_naming_the_field(site: Site, body: dict[str, Any], loc: str) -> None:
    head = site.head()
    refused = site.post(supplies(site), Role.RESPONDER, json=body)
    problem = assert_problem(refused, 422, "validation-error")
    assert any(e["loc"].endswith(loc) for e in problem["errors"]), problem
    assert site.events_after(head) == []


def test_bad_inventory_and_runners_are_422(site: Site) -> None:
    head = site.head()
    for body, loc in (
        ({"kind": "water", "quantity": -1}, "quantity"),
        ({"kind": "water", "quantity": 10, "low_below": -1}, "low_below"),
        ({"kind": "rockets", "quantity": 10}, "kind"),
        ({"kind": "ammunition", "quantity": 10}, "calibre"),
    ):
        problem = assert_problem(
            site.post("/api/v1/site/inventory", Role.ADMIN, json=body), 422, "validation-error"
        )
        assert any(e["loc"].endswith(loc) for e in problem["errors"]), problem
    assert site.events_after(head) == []
    supply_id = ask(site)
    head = site.head()
    nobody = step(site, supply_id, "runner", Role.COMMANDER, runner_person_id="no-such-person")
    problem = assert_problem(nobody, 422, "validation-error", "no-such-person")
    assert problem["errors"][0]["loc"] == "body.runner_person_id"
    assert site.events_after(head) == []


def test_never_residents_or_guests(site: Site) -> None:
    ask(site)
    for role in (Role.RESIDENT, Role.GUEST):
        assert_problem(site.get(supplies(site), role), 403, "forbidden")
        events = site.get(f"/api/v1/incidents/{site.incident_id}/events", role)
        assert events.status_code == 200, events.text
        assert not any(e["type"].startswith("supply.") for e in events.json()["events"])


def test_the_site_file_counts_the_stock_and_applying_it_again_restocks_nothing(site: Site) -> None:
    stock_file = {
        "site": {"name": "Tel Kinamon"},
        "inventory": [
            {"kind": "ammunition", "calibre": "5.56", "quantity": 500, "low_below": 400},
            {"kind": "water", "quantity": 40},
        ],
    }
    site.store.execute(SITE, site_file_command(stock_file, None))
    assert stock(site)["ammunition:5.56"]["quantity"] == 500
    assert stock(site)["water"]["quantity"] == 40
    supply_id = ask(site)
    runner = site.seeded.subjects[Role.RESPONDER]
    assert (
        step(site, supply_id, "runner", Role.COMMANDER, runner_person_id=runner).status_code == 201
    )
    assert step(site, supply_id, "delivered", Role.RESPONDER).status_code == 201
    assert stock(site)["ammunition:5.56"]["quantity"] == 380

    # The same file again, mid-incident: nothing is counted again.
    head = site.head()
    site.store.execute(SITE, site_file_command(stock_file, None))
    assert "inventory.set" not in [e.type for e in site.events_after(head)]
    assert stock(site)["ammunition:5.56"]["quantity"] == 380
    # A new count (after a restock) is stored.
    stock_file["inventory"][0]["quantity"] = 600
    site.store.execute(SITE, site_file_command(stock_file, None))
    assert stock(site)["ammunition:5.56"] == {**stock(site)["ammunition:5.56"], "quantity": 600}
    assert stock(site)["ammunition:5.56"]["low"] is False

    twice = {**stock_file, "inventory": [{"kind": "water", "quantity": 1}] * 2}
    with pytest.raises(SiteFileError, match="counted twice"):
        site_file_command(twice, None)
    with pytest.raises(SiteFileError, match=r"\[\[inventory\]\] #1: quantity"):
        site_file_command({**stock_file, "inventory": [{"kind": "water", "quantity": -1}]}, None)
