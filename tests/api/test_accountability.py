"""The accountability board, re-ping and proof of life through the API (issue 5 item 6)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from konenut.app.accountability import REPORT_STATUS, Rechecker
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role
from konenut.domain.site_plan import FeatureKind, feature_points
from konenut.i18n import instructions

from .conftest import SITE, Site, assert_problem, serve_site

ADMIN, COMMANDER, OPERATOR, MEDIC = Role.ADMIN, Role.COMMANDER, Role.OPERATOR, Role.MEDIC


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[tuple[Site, list[timedelta]]]:
    """A site whose store clock runs `shift[0]` ahead of the wall clock."""
    shift = [timedelta(0)]
    with serve_site(tmp_path, clock=lambda: utcnow() + shift[0]) as site:
        yield site, shift


def _household(site: Site, ref: str, building: str | None = None, **more: Any) -> str:
    body = {"ref": ref, "name": f"Family {ref}", "building_ref": building, **more}
    return str(_ok(site.post("/api/v1/site/households", ADMIN, json=body))["household_id"])


def _member(site: Site, ref: str, household_id: str, **more: Any) -> str:
    body = {"ref": ref, "name": f"Member {ref}", "household_id": household_id, **more}
    return str(_ok(site.post("/api/v1/site/people", ADMIN, json=body))["person_id"])


def _check_in(site: Site, household_id: str, status: str) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/households/{household_id}/check-ins"
    _ok(site.post(path, OPERATOR, json={"status": status}))


def _board(site: Site, role: Role = OPERATOR) -> dict[str, Any]:
    return _ok(site.get(f"/api/v1/incidents/{site.incident_id}/accountability", role), 200)


def _reping(site: Site, status: int = 201) -> dict[str, Any]:
    path = f"/api/v1/incidents/{site.incident_id}/accountability/reping"
    return _ok(site.post(path, OPERATOR), status)


def _recheck(site: Site, minutes: int, role: Role = COMMANDER) -> httpx.Response:
    path = f"/api/v1/incidents/{site.incident_id}/accountability/recheck"
    return site.call("PUT", path, role, json={"every_mins": minutes})


def _near(site: Site, building: str) -> dict[str, float]:
    """A point 20 m north of the building's centre on the demo plan."""
    plan = (site.store.state(SITE).site or {}).get("plan")
    lon, lat = feature_points(plan, FeatureKind.BUILDING)[building]
    return {"lat": lat + 0.00018, "lon": lon}


def test_board_danger_first_then_the_silent_by_risk(site: Site) -> None:
    seeded = [site.seeded.household_id, site.seeded.other_household_id]
    for household_id in seeded:
        _check_in(site, household_id, "safe")
    plain_far = _household(site, "far", "W4")
    quarters = _household(site, "quarters", "W2", foreman_person_ref="p-foreman")
    near = _household(site, "near", "W1")
    elderly = _household(site, "elderly", "W4")
    _member(site, "grandma", elderly, age_group="elderly")
    intruder = _household(site, "intruder", "W3")
    _check_in(site, intruder, "intruder")
    sighting = {"category": "hostile", "count": 3, "location": _near(site, "W1")}
    _ok(site.post(f"/api/v1/incidents/{site.incident_id}/sightings", COMMANDER, json=sighting))

    board = _board(site)

    assert board["counts"] == {
        "safe": 2,
        "need_help": 0,
        "danger": 1,
        "not_home": 0,
        "no_answer": 4,
        "total": 7,
    }
    order = [row["household_id"] for row in board["households"]]
    assert order[:5] == [intruder, elderly, quarters, near, plain_far]
    first = board["households"][0]
    assert first["red"] is True and first["state"] == "intruder" and first["building_ref"] == "W3"
    rows = {row["household_id"]: row for row in board["households"]}
    assert rows[elderly]["reasons"][0] == {"code": "special_needs", "needs": ["elderly"]}
    assert rows[near]["reasons"][0]["code"] == "near_sighting"
    assert rows[near]["reasons"][0]["distance_m"] < rows[plain_far]["reasons"][0]["distance_m"]
    assert rows[seeded[0]]["state"] == "safe" and rows[seeded[0]]["via"] == "app"
    # The medic reads it too; a resident never.
    assert _board(site, MEDIC)["counts"] == board["counts"]
    response = site.get(f"/api/v1/incidents/{site.incident_id}/accountability", Role.RESIDENT)
    assert_problem(response, 403, "forbidden")


def test_reping_asks_exactly_the_silent_households(site: Site) -> None:
    answered, silent = site.seeded.other_household_id, site.seeded.household_id
    _check_in(site, answered, "safe")
    quarters = _household(site, "quarters", "W2", foreman_person_ref="p-foreman")
    before = site.head()

    answer = _reping(site)

    events = site.events_after(before)
    assert [e.type for e in events] == ["broadcast.sent"]
    sent = events[0].payload
    assert sorted(sent["household_ids"]) == sorted([silent, quarters])
    assert sent["template"] == REPORT_STATUS
    assert sent["texts"] == instructions()[REPORT_STATUS]
    assert set(sent["texts"]) == {"he", "ar", "en", "th", "ne"}
    assert answer["pinged"] == 2 and answer["broadcast_id"] == sent["broadcast_id"]
    # The silent household's resident is asked; the household that answered is not.
    mine = _ok(site.get(f"/api/v1/incidents/{site.incident_id}/broadcasts", Role.RESIDENT), 200)
    assert [b["broadcast_id"] for b in mine] == [sent["broadcast_id"]]
    assert "household_ids" not in mine[0]
    # Once everyone has answered, a re-ping asks nobody and stores nothing.
    _check_in(site, silent, "not_home")
    _check_in(site, quarters, "need_medic")
    before = site.head()
    assert _reping(site, 200)["pinged"] == 0  # 200: nothing new
    assert site.events_after(before) == []


def test_reping_is_for_those_who_run_the_response(site: Site) -> None:
    for role in (Role.RESPONDER, Role.RESIDENT, Role.MEDIC):
        before = site.head()
        path = f"/api/v1/incidents/{site.incident_id}/accountability/reping"
        assert_problem(site.post(path, role), 403, "forbidden")
        assert [e.type for e in site.events_after(before)] == ["audit.access_denied"]


def test_proof_of_life_asks_again_those_silent_for_n_minutes(
    clocked: tuple[Site, list[timedelta]],
) -> None:
    site, shift = clocked
    rechecker = Rechecker(site.store, SITE)
    answered, silent = site.seeded.other_household_id, site.seeded.household_id
    _check_in(site, answered, "safe")
    before = site.head()
    _ok(_recheck(site, 30))
    _ok(_recheck(site, 30), 200)  # the same again: nothing new
    events = site.events_after(before)
    assert [(e.type, e.payload) for e in events] == [
        ("accountability.recheck_set", {"every_mins": 30})
    ]
    assert _board(site)["recheck_every_mins"] == 30
    assert rechecker.tick() == 0  # nobody has been silent for 30 minutes yet

    shift[0] = timedelta(minutes=20)
    _check_in(site, answered, "safe")  # answered again 20 minutes in
    shift[0] = timedelta(minutes=31)
    before = site.head()
    assert rechecker.tick() == 1
    events = site.events_after(before)
    assert [e.type for e in events] == ["broadcast.sent"]
    assert events[0].payload["household_ids"] == [silent]
    assert events[0].actor is None  # the server asked, not a person
    assert rechecker.tick() == 0  # just asked: not again for 30 minutes

    shift[0] = timedelta(minutes=62)
    before = site.head()
    assert rechecker.tick() == 2  # both silent for 30 minutes now
    assert sorted(site.events_after(before)[0].payload["household_ids"]) == sorted(
        [answered, silent]
    )

    _ok(_recheck(site, 0))  # off
    shift[0] = timedelta(minutes=200)
    assert rechecker.tick() == 0


def test_recheck_bad_input_stores_nothing(site: Site) -> None:
    before = site.head()
    for minutes in (-1, 241):
        assert_problem(_recheck(site, minutes), 422, "validation-error")
    path = f"/api/v1/incidents/{site.incident_id}/accountability/recheck"
    bad = site.call("PUT", path, COMMANDER, json={"every_mins": "often"})
    assert_problem(bad, 422, "validation-error")
    assert site.events_after(before) == []
    assert_problem(_recheck(site, 30, MEDIC), 403, "forbidden")
    assert [e.type for e in site.events_after(before)] == ["audit.access_denied"]
    before = site.head()
    nowhere = "/api/v1/incidents/nope/accountability/recheck"
    response = site.call("PUT", nowhere, COMMANDER, json={"every_mins": 5})
    assert_problem(response, 404, "not-found")
    assert site.events_after(before) == []


def test_reping_retried_with_its_key_asks_once(site: Site) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/accountability/reping"
    before = site.head()
    first = _ok(site.post(path, OPERATOR, key="reping-1"))
    again = site.post(path, OPERATOR, key="reping-1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first
    assert [e.type for e in site.events_after(before)] == ["broadcast.sent"]


def test_the_running_server_asks_again_without_anyone_tapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof-of-life timer runs inside the served app: nobody calls tick() here."""
    monkeypatch.setattr("konenut.app.accountability.RECHECK_INTERVAL_SECS", 0.1)
    shift = [timedelta(0)]
    with serve_site(tmp_path, clock=lambda: utcnow() + shift[0], escalate=True) as site:
        answered, silent = site.seeded.other_household_id, site.seeded.household_id
        _ok(_recheck(site, 5))
        shift[0] = timedelta(minutes=4)
        _check_in(site, answered, "safe")
        before = site.head()
        shift[0] = timedelta(minutes=6)
        asked = _wait_for_recheck(site, before)
    assert asked.payload["household_ids"] == [silent]
    assert asked.payload["template"] == REPORT_STATUS
    assert asked.actor is None


def _wait_for_recheck(site: Site, after: int) -> Any:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for event in site.events_after(after):
            if event.type == "broadcast.sent" and event.payload.get("template") == REPORT_STATUS:
                return event
        time.sleep(0.05)
    raise AssertionError("the proof-of-life re-check was not sent within 5 s")
