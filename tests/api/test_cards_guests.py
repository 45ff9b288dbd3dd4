"""Household cards and guest posters (issue 5 items 2 and 7), through HTTP over a real SQLite
store: issuing, redeeming, the device limit, re-issuing, guests in the open incident, merging,
the end of the incident, and bad input that stores nothing."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from konenut.domain.roles import Role

from .conftest import SITE, Site, assert_problem, new_key

CODE_FORMAT = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def issue_card(site: Site, household_id: str) -> dict[str, Any]:
    response = site.post(f"/api/v1/site/households/{household_id}/card", Role.ADMIN, json={})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def redeem_card(site: Site, code: str, key: str | None = None) -> Any:
    return site.post("/api/v1/passes/redeem-card", json={"code": code}, key=key)


def resident_token(site: Site, code: str) -> str:
    response = redeem_card(site, code)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def check_in(site: Site, token: str, household_id: str) -> Any:
    return site.post(
        f"/api/v1/incidents/{site.incident_id}/households/{household_id}/check-ins",
        token=token,
        json={"status": "safe", "people_count": 3},
    )


def issue_poster(site: Site, building_ref: str | None = "12", role: Role = Role.OPERATOR) -> Any:
    body = {"building_ref": building_ref} if building_ref else {}
    response = site.post("/api/v1/site/guest-posters", role, json={**body, "language": "th"})
    assert response.status_code == 201, response.text
    return response.json()


def redeem_poster(site: Site, code: str, **fields: Any) -> Any:
    body = {"code": code, "people_count": 4, "language": "th", **fields}
    return site.post("/api/v1/passes/redeem-guest", json=body)


def test_a_card_enrols_a_resident_of_that_household_only(site: Site) -> None:
    card = issue_card(site, site.seeded.household_id)
    assert CODE_FORMAT.match(card["code"]), card["code"]
    assert card["ref"] == "h-14" and card["name"] == "Cohen"
    assert card["link"].endswith("/he/p#" + card["code"].replace("-", ""))
    assert base64.b64decode(card["qr_data_url"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert [t["lang"] for t in card["texts"]] == ["he"] and card["texts"][0]["dir"] == "rtl"
    [issued] = card["events"]
    assert issued["payload"]["purpose"] == "household_card"
    assert issued["payload"]["max_devices"] == 10 and "expires_at" not in issued["payload"]

    seq = site.head()
    response = redeem_card(site, card["code"].lower().replace("-", " "))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["household_id"] == site.seeded.household_id and answer["roles"] == ["resident"]
    enrolled, audit = site.events_after(seq)
    assert enrolled.type == "device.enrolled" and audit.type == "audit.pass_redeemed"
    assert enrolled.payload["subject_kind"] == "household"
    assert enrolled.payload["household_id"] == site.seeded.household_id
    assert "incident_id" not in enrolled.payload and "expires_at" not in enrolled.payload

    token = answer["token"]
    me = site.get("/api/v1/me", token=token).json()
    assert me["roles"] == ["resident"] and me["household_id"] == site.seeded.household_id
    own = site.get(f"/api/v1/site/households/{site.seeded.household_id}", token=token)
    assert own.status_code == 200 and own.json()["name"] == "Cohen"
    assert_problem(check_in(site, token, site.seeded.other_household_id), 403, "forbidden")
    other = site.get(f"/api/v1/site/households/{site.seeded.other_household_id}", token=token)
    assert other.status_code == 403
    assert site.get("/api/v1/site/people", token=token).status_code == 403


def test_the_eleventh_device_is_refused(site: Site) -> None:
    card = issue_card(site, site.seeded.household_id)
    for _ in range(10):
        resident_token(site, card["code"])
    seq = site.head()
    refused = redeem_card(site, card["code"])
    assert_problem(refused, 409, "pass-used-up", "10 phones already")
    assert site.events_after(seq) == []


def test_a_retried_redemption_is_one_device(site: Site) -> None:
    card = issue_card(site, site.seeded.household_id)
    key = new_key()
    first = redeem_card(site, card["code"], key=key)
    again = redeem_card(site, card["code"], key=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["token"] == first.json()["token"]
    assert site.store.state(SITE).passes[card["pass_id"]].redeemed == 1


def test_reissuing_revokes_the_old_card_not_its_devices(site: Site) -> None:
    old = issue_card(site, site.seeded.household_id)
    token = resident_token(site, old["code"])
    new = issue_card(site, site.seeded.household_id)
    revoked, issued = new["events"]
    assert revoked["type"] == "pass.revoked" and revoked["payload"]["pass_id"] == old["pass_id"]
    assert issued["type"] == "pass.issued"
    assert_problem(redeem_card(site, old["code"]), 409, "pass-revoked")
    assert redeem_card(site, new["code"]).status_code == 201
    assert site.get("/api/v1/me", token=token).status_code == 200


def test_cards_for_printing_are_issued_by_admins_only(site: Site) -> None:
    response = site.post(
        "/api/v1/site/households/cards", Role.ADMIN, json={"households": ["h-15", "h-14"]}
    )
    assert response.status_code == 201, response.text
    printed = response.json()["cards"]
    assert [c["ref"] for c in printed] == ["h-15", "h-14"]
    assert all(CODE_FORMAT.match(c["code"]) and c["qr_data_url"] for c in printed)
    assert "codes" not in response.json()
    assert redeem_card(site, printed[0]["code"]).json()["household_id"] == (
        site.seeded.other_household_id
    )
    every = site.post("/api/v1/site/households/cards", Role.ADMIN, json={}).json()["cards"]
    assert {c["ref"] for c in every} == {"h-14", "h-15"}
    for role in (Role.COMMANDER, Role.RESIDENT):
        refused = site.post("/api/v1/site/households/cards", role, json={})
        assert_problem(refused, 403, "forbidden")
    seq = site.head()
    unknown = site.post("/api/v1/site/households/cards", Role.ADMIN, json={"households": ["x"]})
    assert_problem(unknown, 404, "not-found", "x")
    assert site.events_after(seq) == []


def test_a_guest_checks_in_by_a_poster_in_the_open_incident(site: Site) -> None:
    poster = issue_poster(site)
    assert poster["link"].endswith("/th/p#" + poster["code"].replace("-", ""))
    inspected = site.post("/api/v1/passes/inspect", json={"code": poster["code"]}).json()
    assert inspected == {
        "purpose": "guest_poster",
        "building_ref": "12",
        "incident_open": True,
        "max_people": 20,
    }

    seq = site.head()
    response = redeem_poster(site, poster["code"], phone="+66812345678")
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["incident_id"] == site.incident_id and answer["roles"] == ["guest"]
    enrolled, checked_in, audit = site.events_after(seq)
    assert enrolled.payload["incident_id"] == site.incident_id
    assert enrolled.payload["subject_kind"] == "guest"
    assert checked_in.type == "guest.checked_in" and checked_in.incident_id == site.incident_id
    assert checked_in.payload == {
        "guest_id": answer["guest_id"],
        "building_ref": "12",
        "people_count": 4,
        "language": "th",
        "phone": "+66812345678",
        "status": "safe",
        "text": "",
        "pass_id": poster["pass_id"],
    }
    assert audit.type == "audit.pass_redeemed"

    listed = site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.OPERATOR).json()
    assert [(g["building_ref"], g["people_count"], g["phone"]) for g in listed] == [
        ("12", 4, "+66812345678")
    ]
    squad = site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.RESPONDER).json()
    assert "phone" not in squad[0]
    assert (
        site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.RESIDENT).status_code == 403
    )

    token = answer["token"]
    mine = site.get("/api/v1/guests/me", token=token).json()
    assert mine["guest_id"] == answer["guest_id"] and mine["building_ref"] == "12"
    path = f"/api/v1/incidents/{site.incident_id}/guests/{answer['guest_id']}/check-ins"
    tapped = site.post(path, token=token, json={"status": "intruder"})
    assert tapped.status_code == 201, tapped.text
    assert site.get("/api/v1/guests/me", token=token).json()["status"] == "intruder"
    assert site.get(f"/api/v1/incidents/{site.incident_id}/guests", token=token).status_code == 403


def test_a_site_wide_poster_takes_the_building_from_the_guest(site: Site) -> None:
    poster = issue_poster(site, building_ref=None, role=Role.COMMANDER)
    answer = redeem_poster(site, poster["code"], building_ref="W2").json()
    guest = site.store.state(SITE).guests[answer["guest_id"]]
    assert guest.building_ref == "W2" and guest.people_count == 4


def test_without_an_open_incident_a_guest_is_told_so(site: Site) -> None:
    poster = issue_poster(site)
    closed = site.post(
        f"/api/v1/incidents/{site.incident_id}/close", Role.COMMANDER, json={"summary": "over"}
    )
    assert closed.status_code == 201, closed.text
    inspected = site.post("/api/v1/passes/inspect", json={"code": poster["code"]}).json()
    assert inspected["incident_open"] is False
    seq = site.head()
    assert_problem(redeem_poster(site, poster["code"]), 409, "no-open-incident", "no emergency")
    assert site.events_after(seq) == []


def test_a_guest_token_ends_with_its_incident(site: Site) -> None:
    poster = issue_poster(site)
    token = redeem_poster(site, poster["code"]).json()["token"]
    assert site.get("/api/v1/guests/me", token=token).status_code == 200
    site.post(f"/api/v1/incidents/{site.incident_id}/close", Role.COMMANDER, json={})
    assert_problem(site.get("/api/v1/guests/me", token=token), 401, "token-expired", "closed")


def test_an_operator_merges_a_guest_into_a_household(site: Site) -> None:
    poster = issue_poster(site)
    guest_id = redeem_poster(site, poster["code"]).json()["guest_id"]
    path = f"/api/v1/incidents/{site.incident_id}/guests/{guest_id}/merge"
    assert_problem(site.post(path, Role.RESPONDER, json={"household_id": "x"}), 403, "forbidden")
    seq = site.head()
    assert_problem(site.post(path, Role.OPERATOR, json={"household_id": "nope"}), 404, "not-found")
    assert site.events_after(seq) == []
    merged = site.post(path, Role.OPERATOR, json={"household_id": site.seeded.household_id})
    assert merged.status_code == 201, merged.text
    assert merged.json()["events"][0]["type"] == "guest.merged"
    again = site.post(path, Role.OPERATOR, json={"household_id": site.seeded.household_id})
    assert again.status_code == 200
    listed = site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.OPERATOR).json()
    assert listed[0]["merged_into"] == site.seeded.household_id


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"people_count": 0}, "people_count"),
        ({"people_count": 501}, "people_count"),
        ({"language": "xx"}, "language"),
        ({"phone": "050-123"}, "phone"),
        ({"building_ref": "nowhere"}, None),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_guest_input_stores_nothing(
    site: Site, fields: dict[str, Any], loc: str | None
) -> None:
    poster = issue_poster(site, building_ref=None)
    seq = site.head()
    response = redeem_poster(site, poster["code"], **fields)
    if loc is None:
        assert_problem(response, 404, "not-found", "nowhere")
    else:
        body = assert_problem(response, 422, "validation-error")
        assert any(loc in str(error["loc"]) for error in body["errors"]), body
    assert site.events_after(seq) == []


def test_wrong_codes_and_purposes_are_refused(site: Site) -> None:
    card = issue_card(site, site.seeded.household_id)
    poster = issue_poster(site)
    seq = site.head()
    assert_problem(redeem_card(site, poster["code"]), 404, "code-unknown")
    assert_problem(redeem_poster(site, card["code"]), 404, "code-unknown")
    assert_problem(redeem_card(site, "A" * 16), 404, "code-unknown")
    assert_problem(redeem_card(site, "short"), 422, "validation-error")
    assert site.events_after(seq) == []
    for role in (Role.RESPONDER, Role.RESIDENT, Role.GUEST):
        refused = site.post("/api/v1/site/guest-posters", role, json={})
        assert_problem(refused, 403, "forbidden")
    refused = site.post(
        f"/api/v1/site/households/{site.seeded.household_id}/card", Role.COMMANDER, json={}
    )
    assert_problem(refused, 403, "forbidden")
    missing = site.post("/api/v1/site/households/nope/card", Role.ADMIN, json={})
    assert_problem(missing, 404, "not-found")
