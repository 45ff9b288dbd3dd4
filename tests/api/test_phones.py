"""Every phone input reads a number as people type it, with the site's country code (issue 10
item 12): the join API, people, the household editor, the registry sheet, guest posters and
contact points all store the same E.164 number for the same typed text."""

from __future__ import annotations

from typing import Any

from helpers import SITE
from konenut.domain.roles import Role

from .conftest import Site, assert_problem
from .test_cards_guests import issue_poster, redeem_poster
from .test_household_editor import as_edited, fresh_household, household, save
from .test_registry import sheet, upload
from .test_volunteers import issue_pass, redeem

THAI = {"country_code": "66"}  # a site in Thailand: 08X... is a Thai mobile


def _set_country(site: Site) -> None:
    configured = site.call("PUT", "/api/v1/site", Role.ADMIN, json={"name": "Ban Nong", **THAI})
    assert configured.status_code == 201, configured.text


def _person_phone(site: Site, ref: str) -> str | None:
    person = site.store.state(SITE).person_by_ref(ref)
    assert person is not None, ref
    return person.phone


def _created(response: Any) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


def test_the_join_api_takes_a_local_number_as_the_page_does(site: Site) -> None:
    joined = _created(redeem(site, issue_pass(site)["code"], phone="0521234567"))
    listed = site.get(f"/api/v1/incidents/{site.incident_id}/volunteers", Role.COMMANDER).json()
    mine = next(v for v in listed if v["volunteer_id"] == joined["volunteer_id"])
    assert mine["phone"] == "+972521234567"


def test_every_phone_input_uses_the_site_country_code(site: Site) -> None:
    _set_country(site)
    typed, stored = "081-234 5678", "+66812345678"

    _created(
        site.post(
            "/api/v1/site/people",
            Role.ADMIN,
            json={"ref": "somchai", "name": "Somchai", "phone": typed},
        )
    )
    assert _person_phone(site, "somchai") == stored

    joined = _created(redeem(site, issue_pass(site)["code"], phone=typed))
    assert site.store.state(SITE).volunteers[joined["volunteer_id"]].phone == stored

    guest = _created(redeem_poster(site, issue_poster(site)["code"], phone=typed))
    assert site.store.state(SITE).guests[guest["guest_id"]].phone == stored

    household_id = fresh_household(site, "w-1")
    edited = as_edited(
        household(site, household_id), members=[{"ref": "w-1-1", "name": "Nok", "phone": typed}]
    )
    _created(save(site, household_id, edited))
    assert _person_phone(site, "w-1-1") == stored

    _created(upload(site, sheet(f"w-2,Quarters 2,,none,th,,,w-2-1,Lek,adult,th,{typed},")))
    assert _person_phone(site, "w-2-1") == stored

    person_id = site.seeded.subjects[Role.RESPONDER]
    path = f"/api/v1/people/{person_id}/contacts/sms"
    _created(site.call("PUT", path, Role.RESPONDER, json={"address": typed}))
    assert site.store.state(SITE).contacts[person_id]["sms"].address == stored


def test_a_number_that_cannot_be_read_is_refused_at_its_field(site: Site) -> None:
    _set_country(site)
    head = site.head()
    too_short = site.post(
        "/api/v1/site/people", Role.ADMIN, json={"ref": "x", "name": "X", "phone": "081-234"}
    )
    body = assert_problem(too_short, 422, "validation-error", "081-234")
    assert body["errors"][0]["loc"] == "body.phone"
    # Neither a trunk 0 nor +: it may belong to any country, so it is not guessed.
    no_country = redeem(site, issue_pass(site)["code"], phone="812345678")
    assert assert_problem(no_country, 422, "validation-error")["errors"][0]["loc"] == "body.phone"
    assert [e.type for e in site.events_after(head)] == ["pass.issued"]
