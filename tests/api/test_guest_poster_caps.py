"""Guest posters are bounded (issue 11, item 5), through HTTP over a real SQLite store: one
code redeemed 20 times put 10,000 people in one building. The site's [guests] caps: devices per
poster per incident, people per check-in, redemptions a minute per address and per poster; an
operator voids a poster's guests in one tap; guests' counts are marked on the occupancy board."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from konenut.domain.roles import Role

from .conftest import Site, assert_problem, new_key
from .test_cards_guests import issue_poster, redeem_poster

UNTHROTTLED = {"redemptions_per_address_per_min": 1000, "redemptions_per_poster_per_min": 1000}


def set_guest_caps(site: Site, **caps: int) -> None:
    name = site.get("/api/v1/site", Role.ADMIN).json()["name"]
    answer = site.call("PUT", "/api/v1/site", Role.ADMIN, json={"name": name, "guests": caps})
    assert answer.status_code == 201, answer.text


def redeem_from(site: Site, address: str, code: str, **fields: Any) -> Any:
    """A redemption from another phone's address (a TestClient keyed on it)."""
    body = {"code": code, "people_count": 4, "language": "th", **fields}
    with TestClient(site.client.app, client=(address, 50000)) as other:
        return other.post(
            "/api/v1/passes/redeem-guest", json=body, headers={"Idempotency-Key": new_key()}
        )


def occupancy_of(site: Site, ref: str) -> dict[str, Any] | None:
    answer = site.get(f"/api/v1/incidents/{site.incident_id}/occupancy", Role.OPERATOR)
    assert answer.status_code == 200, answer.text
    return next((b for b in answer.json()["buildings"] if b["building_ref"] == ref), None)


def test_a_poster_brings_in_30_devices_an_incident_by_default(site: Site) -> None:
    set_guest_caps(site, **UNTHROTTLED)
    poster = issue_poster(site, building_ref="13")
    for _ in range(30):
        assert redeem_poster(site, poster["code"]).status_code == 201
    seq = site.head()
    refused = redeem_poster(site, poster["code"])
    assert_problem(refused, 409, "pass-used-up", "as many devices")
    assert site.events_after(seq) == []
    inside = occupancy_of(site, "13")
    assert inside is not None and inside["people"] == 120


def test_the_site_sets_the_caps_and_a_check_in_brings_at_most_its_people(site: Site) -> None:
    set_guest_caps(site, max_devices_per_poster=2, max_people_per_guest=6)
    poster = issue_poster(site, building_ref="13")
    seq = site.head()
    too_many = redeem_poster(site, poster["code"], people_count=7)
    assert_problem(too_many, 422, "validation-error", "at most 6 people")
    assert too_many.json()["errors"][0]["loc"] == "body.people_count"
    assert site.events_after(seq) == []
    first = redeem_poster(site, poster["code"], people_count=6)
    assert first.status_code == 201, first.text
    assert redeem_poster(site, poster["code"]).status_code == 201
    assert_problem(redeem_poster(site, poster["code"]), 409, "pass-used-up")
    # The guest cannot raise its count afterwards either; an operator can correct it.
    guest_id, token = first.json()["guest_id"], first.json()["token"]
    path = f"/api/v1/incidents/{site.incident_id}/guests/{guest_id}/check-ins"
    raised = site.post(path, token=token, json={"status": "safe", "people_count": 500})
    assert_problem(raised, 422, "validation-error", "at most 6 people")
    corrected = site.post(path, Role.OPERATOR, json={"status": "safe", "people_count": 9})
    assert corrected.status_code == 201, corrected.text
    # The default cap of people is 20.
    set_guest_caps(site)
    other = issue_poster(site, building_ref="12")
    assert_problem(redeem_poster(site, other["code"], people_count=21), 422, "validation-error")
    assert redeem_poster(site, other["code"], people_count=20).status_code == 201


def test_redemptions_are_throttled_per_address_and_per_poster(site: Site) -> None:
    poster = issue_poster(site, building_ref="13")
    for _ in range(10):  # default: 10 a minute from one address
        assert redeem_from(site, "10.0.0.1", poster["code"]).status_code == 201
    throttled = redeem_from(site, "10.0.0.1", poster["code"])
    assert_problem(throttled, 429, "too-many-attempts", "from this address")
    assert int(throttled.headers["Retry-After"]) >= 1
    assert redeem_from(site, "10.0.0.2", poster["code"]).status_code == 201

    set_guest_caps(site, redemptions_per_poster_per_min=3)
    busy = issue_poster(site, building_ref="12")
    for n in range(3):
        assert redeem_from(site, f"10.0.1.{n}", busy["code"]).status_code == 201
    seq = site.head()
    flood = redeem_from(site, "10.0.1.9", busy["code"])
    assert_problem(flood, 429, "too-many-attempts", "this poster")
    assert site.events_after(seq) == []
    quiet = issue_poster(site, building_ref="12")
    assert redeem_from(site, "10.0.1.9", quiet["code"]).status_code == 201, "another poster"


def test_a_busy_poster_is_refused_before_the_rest_of_its_request_is_checked(site: Site) -> None:
    # The poster's limit is known from the code alone (api/guessers.py): a redemption over it
    # gets the 429 even with no Idempotency-Key and a count the route would refuse with 422.
    set_guest_caps(site, redemptions_per_poster_per_min=2)
    busy = issue_poster(site, building_ref="12")
    for n in range(2):
        assert redeem_from(site, f"10.0.2.{n}", busy["code"]).status_code == 201
    sloppy = {"code": busy["code"], "people_count": 0, "language": "th"}
    with TestClient(site.client.app, client=("10.0.2.9", 50000)) as other:
        refused = other.post("/api/v1/passes/redeem-guest", json=sloppy)
    assert_problem(refused, 429, "too-many-attempts", "this poster")
    assert int(refused.headers["Retry-After"]) >= 1


def test_an_operator_voids_what_a_poster_brought_in_with_one_request(site: Site) -> None:
    set_guest_caps(site, max_devices_per_poster=3, **UNTHROTTLED)
    bad = issue_poster(site, building_ref="13")
    good = issue_poster(site, building_ref="13")
    tokens = [redeem_poster(site, bad["code"]).json()["token"] for _ in range(3)]
    kept = redeem_poster(site, good["code"]).json()
    assert_problem(redeem_poster(site, bad["code"]), 409, "pass-used-up")
    listed = site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.OPERATOR).json()
    assert sorted(g["pass_id"] for g in listed) == sorted([bad["pass_id"]] * 3 + [good["pass_id"]])
    assert {g["poster_ref"] for g in listed} == {"13"}

    void = f"/api/v1/incidents/{site.incident_id}/guest-posters/{bad['pass_id']}/void"
    assert_problem(site.post(void, Role.RESPONDER, json={}), 403, "forbidden")
    voided = site.post(void, Role.OPERATOR, json={"reason": "a flood from one poster"})
    assert voided.status_code == 201, voided.text
    assert voided.json()["voided"] == 3
    types = [e["type"] for e in voided.json()["events"]]
    assert types == ["guests.voided"] + ["token.revoked"] * 3

    listed = site.get(f"/api/v1/incidents/{site.incident_id}/guests", Role.OPERATOR).json()
    assert [g["guest_id"] for g in listed] == [kept["guest_id"]]
    inside = occupancy_of(site, "13")
    assert inside is not None and inside["people"] == 4 and inside["guests"] == [kept["guest_id"]]
    for token in tokens:
        assert site.get("/api/v1/guests/me", token=token).status_code == 401
    # The poster still hangs on the wall: real guests check in again, counted afresh.
    assert redeem_poster(site, bad["code"]).status_code == 201
    again = site.post(void, Role.OPERATOR, json={}, key=new_key())
    assert again.status_code == 201 and again.json()["voided"] == 1


def test_the_occupancy_board_marks_what_guests_reported(site: Site) -> None:
    added = site.post(
        "/api/v1/site/households",
        Role.ADMIN,
        json={"ref": "h-12", "name": "Levi", "building_ref": "12"},
    )
    assert added.status_code == 201, added.text
    household = added.json()["events"][0]["payload"]["household_id"]
    checked = site.post(
        f"/api/v1/incidents/{site.incident_id}/households/{household}/check-ins",
        Role.OPERATOR,
        json={"status": "safe", "people_count": 2},
    )
    assert checked.status_code == 201, checked.text
    poster = issue_poster(site, building_ref="12")
    assert redeem_poster(site, poster["code"], people_count=5).status_code == 201
    inside = occupancy_of(site, "12")
    assert inside is not None
    assert (inside["people"], inside["guest_people"]) == (7, 5)
    # A responder about to go in is told the same.
    entering = site.post(
        f"/api/v1/incidents/{site.incident_id}/entering",
        Role.RESPONDER,
        json={"building_ref": "12"},
    )
    assert entering.status_code == 201, entering.text
    told = entering.json()["inside"]
    assert (told["people"], told["guest_people"]) == (7, 5)
