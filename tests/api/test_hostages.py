"""The hostage / barricade board over the API: report, timestamped updates, and who may see it."""

from __future__ import annotations

from typing import Any

import orjson

from konenut.domain.roles import Role

from .conftest import Site, assert_problem


def board(site: Site) -> str:
    return f"/api/v1/incidents/{site.incident_id}/hostage-situations"


def report(site: Site, role: Role = Role.OPERATOR, **fields: Any) -> dict[str, Any]:
    body = {"building_ref": "14", "household_id": site.seeded.household_id, **fields}
    response = site.post(board(site), role, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_operator_reports_hostages_and_the_commander_and_liaison_see_them(site: Site) -> None:
    reported = report(site, people_inside=4, attackers_inside=2, contact_channel="phone", text="x")
    situation_id = reported["situation_id"]
    for role in (Role.COMMANDER, Role.OPERATOR, Role.LIAISON, Role.ADMIN):
        listed = site.get(board(site), role)
        assert listed.status_code == 200, (role, listed.text)
        [situation] = listed.json()
        assert situation["situation_id"] == situation_id
        assert situation["people_inside"] == 4 and situation["attackers_inside"] == 2
        assert situation["contact_channel"] == "phone" and situation["status"] == "ongoing"
        assert situation["source"] == "operator" and situation["updates"] == []


def test_updates_are_timestamped_and_change_what_is_known(site: Site) -> None:
    situation_id = report(site, people_inside=4)["situation_id"]
    updates = f"{board(site)}/{situation_id}/updates"
    first = site.post(updates, Role.COMMANDER, json={"text": "one came out", "people_inside": 3})
    assert first.status_code == 201, first.text
    done = site.post(updates, Role.OPERATOR, json={"text": "all out", "status": "resolved"})
    assert done.status_code == 201, done.text
    [situation] = site.get(board(site), Role.COMMANDER).json()
    assert situation["status"] == "resolved" and situation["people_inside"] == 3
    assert [u["text"] for u in situation["updates"]] == ["one came out", "all out"]
    assert all(u["at"] and u["by"] for u in situation["updates"])
    again = site.post(updates, Role.OPERATOR, json={"text": "more"})
    assert_problem(again, 409, "conflict", "resolved")


def test_raised_from_a_residents_someone_is_in_the_house(site: Site) -> None:
    household = site.seeded.household_id
    inc = f"/api/v1/incidents/{site.incident_id}"
    answer = site.post(
        f"{inc}/households/{household}/check-ins",
        Role.RESIDENT,
        json={"status": "intruder", "people_count": 3},
    )
    assert answer.status_code == 201, answer.text
    assert report(site)["situation_id"]
    [situation] = site.get(board(site), Role.OPERATOR).json()
    assert situation["source"] == "resident" and situation["household_id"] == household


def test_bad_input_stores_nothing(site: Site) -> None:
    head = site.head()
    missing = site.post(board(site), Role.OPERATOR, json={"people_inside": 2})
    assert_problem(missing, 422, "validation-error")
    unknown = site.post(
        board(site), Role.OPERATOR, json={"building_ref": "14", "household_id": "no-such-house"}
    )
    assert_problem(unknown, 404, "not-found", "no-such-house")
    nowhere = site.post(f"{board(site)}/nope/updates", Role.OPERATOR, json={"text": "?"})
    assert_problem(nowhere, 404, "not-found", "nope")
    assert site.events_after(head) == []


def test_never_residents_guests_or_the_squad_in_the_field(site: Site) -> None:
    report(site, people_inside=2)
    for role in (Role.RESIDENT, Role.GUEST, Role.RESPONDER, Role.MEDIC, Role.VOLUNTEER):
        assert_problem(site.get(board(site), role), 403, "forbidden")
        refused = site.post(board(site), role, json={"building_ref": "14"})
        assert_problem(refused, 403, "forbidden")
    # Not even in the incident's log as the household concerned reads it.
    events = site.get(f"/api/v1/incidents/{site.incident_id}/events", Role.RESIDENT)
    assert events.status_code == 200, events.text
    assert not any(e["type"].startswith("hostage.") for e in events.json()["events"])


def test_the_households_stream_carries_no_hostage_event(site: Site) -> None:
    household = site.seeded.household_id
    inc = f"/api/v1/incidents/{site.incident_id}"
    with site.client.websocket_connect("/api/v1/stream?since=0") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(Role.RESIDENT)}).decode())
        assert ws.receive_json()["type"] == "hello"
        situation_id = report(site, people_inside=2)["situation_id"]
        updated = site.post(
            f"{board(site)}/{situation_id}/updates",
            Role.COMMANDER,
            json={"text": "negotiator on the phone"},
        )
        assert updated.status_code == 201, updated.text
        # The household's own check-in comes after: every frame before it has been sent.
        answer = site.post(
            f"{inc}/households/{household}/check-ins", Role.RESIDENT, json={"status": "safe"}
        )
        assert answer.status_code == 201, answer.text
        frames = []
        while not frames or frames[-1].get("type") != "household.checked_in":
            frames.append(ws.receive_json())
    assert not any(str(f.get("type", "")).startswith("hostage.") for f in frames), frames
    assert "negotiator" not in orjson.dumps(frames).decode()
