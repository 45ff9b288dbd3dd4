"""Residents' personal data, need-to-know per field and per role (contracts §4; issue 11 item 7).

A resident registered with her phone and special needs is read back by every role over REST
(the people list, her household, the site log) and over the live stream: her phone number and
needs reach only those who run the squad; responders and medics see her name in her household;
volunteers and liaisons see no registry at all; a household sees its own people.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from konenut.domain.roles import Role

from .conftest import Site, assert_problem

PHONE = "+972527654321"
NEEDS = ["mobility", "medical"]
RUNS_SQUAD = (Role.ADMIN, Role.COMMANDER, Role.OPERATOR)
RESCUERS = (Role.RESPONDER, Role.MEDIC)
NO_REGISTRY = (Role.VOLUNTEER, Role.LIAISON, Role.GUEST)
REGISTRY_TYPES = ("person.added", "person.updated", "household.added", "household.updated")


@pytest.fixture(scope="module")
def esther(shared_site: Site) -> dict[str, Any]:
    """A resident of the seeded household, with her phone and special needs."""
    added = shared_site.post(
        "/api/v1/site/people",
        Role.ADMIN,
        json={
            "ref": "p-esther",
            "name": "Esther Cohen",
            "phone": PHONE,
            "special_needs": NEEDS,
            "age_group": "elderly",
            "household_id": shared_site.seeded.household_id,
        },
    )
    assert added.status_code == 201, added.text
    person: dict[str, Any] = added.json()
    return person


def _stream_events(site: Site, role: Role) -> list[dict[str, Any]]:
    """Every event the role's stream replays from the start of the log."""
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(role)}).decode())
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["type"] != "live":
            frames.append(ws.receive_json())
    return [f for f in frames if "." in f["type"]]


def _log_events(site: Site, role: Role) -> list[dict[str, Any]]:
    read = site.get("/api/v1/site/events?since=0&limit=5000", role)
    assert read.status_code == 200, read.text
    events: list[dict[str, Any]] = read.json()["events"]
    return events


def _her_events(events: list[dict[str, Any]], person_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e["payload"].get("person_id") == person_id]


@pytest.mark.parametrize("role", RUNS_SQUAD, ids=str)
def test_those_who_run_the_squad_read_phones_and_needs(
    shared_site: Site, esther: dict[str, Any], role: Role
) -> None:
    people = shared_site.get("/api/v1/site/people", role)
    assert people.status_code == 200, people.text
    (her,) = [p for p in people.json() if p["person_id"] == esther["person_id"]]
    assert (her["phone"], her["special_needs"]) == (PHONE, NEEDS)
    for events in (_log_events(shared_site, role), _stream_events(shared_site, role)):
        (added,) = _her_events(events, esther["person_id"])
        assert (added["payload"]["phone"], added["payload"]["special_needs"]) == (PHONE, NEEDS)


@pytest.mark.parametrize("role", RESCUERS, ids=str)
def test_responders_and_medics_see_who_lives_where_but_no_phone_book(
    shared_site: Site, esther: dict[str, Any], role: Role
) -> None:
    people = shared_site.get("/api/v1/site/people", role)
    assert people.status_code == 200, people.text
    (her,) = [p for p in people.json() if p["person_id"] == esther["person_id"]]
    assert her["name"] == "Esther Cohen" and her["age_group"] == "elderly"
    assert "phone" not in her and "special_needs" not in her
    assert all("phone" not in p for p in people.json()), "no phone of anyone, squad included"
    household = shared_site.get(f"/api/v1/site/households/{shared_site.seeded.household_id}", role)
    assert household.status_code == 200, household.text
    assert "Esther Cohen" in [m["name"] for m in household.json()["members"]]
    assert PHONE not in household.text
    person = shared_site.get(f"/api/v1/site/people/{esther['person_id']}", role)
    assert person.status_code == 200 and PHONE not in person.text and "medical" not in person.text
    for events in (_log_events(shared_site, role), _stream_events(shared_site, role)):
        (added,) = _her_events(events, esther["person_id"])
        assert added["payload"]["name"] == "Esther Cohen"
        assert "phone" not in added["payload"] and "special_needs" not in added["payload"]
        assert PHONE not in orjson.dumps(events).decode()


@pytest.mark.parametrize("role", NO_REGISTRY, ids=str)
def test_volunteers_liaisons_and_guests_see_no_registry(
    shared_site: Site, esther: dict[str, Any], role: Role
) -> None:
    for path in (
        "/api/v1/site/people",
        f"/api/v1/site/people/{esther['person_id']}",
        "/api/v1/site/households",
        f"/api/v1/site/households/{shared_site.seeded.household_id}",
    ):
        assert_problem(shared_site.get(path, role), 403, "forbidden")
    for events in (_log_events(shared_site, role), _stream_events(shared_site, role)):
        assert not [e for e in events if e["type"] in REGISTRY_TYPES], role
        assert "Esther" not in orjson.dumps(events).decode()


def test_a_household_sees_its_own_people_with_their_phones(
    shared_site: Site, esther: dict[str, Any]
) -> None:
    own = shared_site.get(
        f"/api/v1/site/households/{shared_site.seeded.household_id}", Role.RESIDENT
    )
    assert own.status_code == 200, own.text
    (her,) = [m for m in own.json()["members"] if m["person_id"] == esther["person_id"]]
    assert her["phone"] == PHONE
    assert_problem(shared_site.get("/api/v1/site/people", Role.RESIDENT), 403, "forbidden")
    events = _stream_events(shared_site, Role.RESIDENT)
    assert _her_events(events, esther["person_id"]), "her own household's registry"
    others = [
        e
        for e in events
        if e["type"] in REGISTRY_TYPES
        and e["payload"].get("household_id") != shared_site.seeded.household_id
    ]
    assert not others, others
