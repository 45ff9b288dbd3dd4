"""Household cards and guest posters in a real Chromium (issue 5 items 2 and 7): a Thai
household's card link opens the resident page in Thai for that household; a guest poster's
link shows the guest form and the guest appears on the operator's console without a reload;
the print page lays out one card per household with its QR code."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    PAGE_READY_MS,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    phone_context,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser
ISOLATE = "\u2068{}\u2069"  # how a page's text wraps a placeholder's value


def post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = api.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    return response.json()


def admin_token(web: WebSite) -> str:
    """A device of the site's admin (the demo village has none: one is added once)."""
    if web.state.person_by_ref("p-card-admin") is None:
        added = c.AddPerson(ref="p-card-admin", name="Card Admin", roles=[Role.ADMIN])
        web.store.execute(SITE, handlers.add_person(None, added))
    person_id = web.person_id("p-card-admin")
    return web.token(c.IssueEnrollmentCode(subject_id=person_id, roles=[Role.ADMIN]))


def test_a_thai_household_card_opens_the_resident_page_in_thai(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    ref = household_speaking("th")
    household = web.household(ref)
    admin = web.api(admin_token(web))
    card = post(admin, f"/api/v1/site/households/{household.household_id}/card", {})
    assert "/th/p#" in card["link"]
    context = phone_context(browser)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(web.url + "/" + card["link"].split("/", 3)[3])  # the printed link, here
        page.wait_for_url(f"{web.url}/th/resident", timeout=PAGE_READY_MS)
        wait_ready(page)
        thai = catalogue("th")
        expect(page.locator("#statuses [data-status=safe]")).to_have_text(
            thai["resident.button.safe"]
        )
        expect(page.locator("#household-name")).to_contain_text(household.name)
        assert page.evaluate("location.hash") == ""  # the code is not kept in the history
        page.screenshot(path=artifacts / "card-resident-th.png", full_page=True)
        page.click("#statuses [data-status=safe]")
        expect(page.locator("#last")).to_contain_text(
            thai["resident.button.safe"], timeout=APPEARS_WITHIN_MS
        )
        assert not errors, errors
    finally:
        context.close()
    checked = [
        e
        for e in web.events_after(0, "household.checked_in")
        if e.payload["household_id"] == household.household_id
    ]
    assert checked and checked[-1].payload["status"] == "safe"


def test_a_guest_checks_in_by_a_poster_and_the_operator_sees_it(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    operator_ref = squad_member("operator")["person_ref"]
    operator_code = web.person_code(operator_ref, [Role.OPERATOR])
    console = desktop_context(browser)
    phone = phone_context(browser)
    try:
        board = enrol(console, web.url, operator_code, lang="en")
        token = board.evaluate("localStorage.getItem('konenut.token')")
        poster = post(web.api(token), "/api/v1/site/guest-posters", {"building_ref": "W3"})
        bare = poster["code"].replace("-", "")
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{web.url}/en/p#{bare}")
        expect(page.locator("#guest")).to_be_visible(timeout=PAGE_READY_MS)
        expect(page.locator("#join")).to_be_hidden()
        expect(page.locator("#guest-building")).to_have_value("W3")
        page.fill("#guest-people", "6")
        page.fill("#guest-phone", "+66 81 234 5678")
        page.screenshot(path=artifacts / "guest-form.png", full_page=True)
        page.click("#guest-submit")
        page.wait_for_url(f"{web.url}/en/resident", timeout=PAGE_READY_MS)
        wait_ready(page)
        english = catalogue("en")
        # Placeholders come wrapped in Unicode isolation marks (i18n.js).
        expect(page.locator("#household-name")).to_have_text(
            english["guest.here"].replace("{ref}", ISOLATE.format("W3"))
        )
        expect(page.locator("#report")).to_be_visible()
        page.screenshot(path=artifacts / "guest-resident.png", full_page=True)

        console_words = catalogue(board.evaluate("document.documentElement.lang"))
        row = console_words["guest.row"].replace("{ref}", ISOLATE.format("W3"))
        row = row.replace("{count}", ISOLATE.format("6"))
        expect(board.locator("#guest-list")).to_contain_text(row, timeout=APPEARS_WITHIN_MS)
        expect(board.locator("#guest-list")).to_contain_text("+66812345678")
        page.click("#statuses [data-status=intruder]")
        expect(board.locator("#guest-list")).to_contain_text(
            console_words["household.intruder"], timeout=APPEARS_WITHIN_MS
        )
        board.screenshot(path=artifacts / "guest-operator.png", full_page=True)
        assert not errors, errors
    finally:
        phone.close()
        console.close()


def test_a_guest_is_told_the_posters_cap_of_people_in_its_language(
    web: WebSite, browser: Any
) -> None:
    """Issue 11, item 5: one check-in by a poster brings at most 20 people (the site's cap);
    the form says so in Thai before anything is sent."""
    operator_ref = squad_member("operator")["person_ref"]
    enrolling = c.IssueEnrollmentCode(subject_id=web.person_id(operator_ref), roles=[Role.OPERATOR])
    operator = web.token(enrolling)
    poster = post(web.api(operator), "/api/v1/site/guest-posters", {"building_ref": "W3"})
    phone = phone_context(browser)
    try:
        page = phone.new_page()
        page.goto(f"{web.url}/th/p#{poster['code'].replace('-', '')}")
        expect(page.locator("#guest")).to_be_visible(timeout=PAGE_READY_MS)
        page.fill("#guest-people", "25")
        page.click("#guest-submit")
        said = catalogue("th")["guest.bad_people"].replace("{max}", ISOLATE.format("20"))
        expect(page.locator("#status")).to_have_text(said)
        sent = web.events_after(0, "guest.checked_in")
        assert not any(e.payload["people_count"] == 25 for e in sent), "nothing was sent"
    finally:
        phone.close()


def test_a_responder_entering_a_house_hears_which_people_guests_reported(
    web: WebSite, browser: Any
) -> None:
    """Issue 11, item 5: the "I am entering house N" answer says how many inside are guests'
    word (anyone can scan a poster)."""
    responder_ref = squad_member("responder")["person_ref"]
    operator = web.person_id(squad_member("operator")["person_ref"])
    enrolling = c.IssueEnrollmentCode(subject_id=operator, roles=[Role.OPERATOR])
    poster = post(
        web.api(web.token(enrolling)), "/api/v1/site/guest-posters", {"building_ref": "48"}
    )
    anyone = httpx.Client(base_url=web.url, timeout=10.0)
    post(anyone, "/api/v1/passes/redeem-guest", {"code": poster["code"], "people_count": 4})
    phone = phone_context(browser)
    try:
        page = enrol(phone, web.url, web.person_code(responder_ref, [Role.RESPONDER]), "en")
        page.locator("#entering-house").fill("48")
        page.locator("#entering-house").press("Enter")
        inside = page.locator("#entering-answer")
        said = catalogue("en")["map.guest_reported"].replace("{n}", ISOLATE.format("4"))
        expect(inside).to_contain_text(said, timeout=APPEARS_WITHIN_MS)
    finally:
        phone.close()


def test_an_operator_voids_a_posters_check_ins_in_one_tap(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    """Issue 11, item 5: a poster's guests are grouped under it on the console, with how many
    phones and people it brought in; one tap on "Void all" takes them off the board."""
    operator_ref = squad_member("operator")["person_ref"]
    console = desktop_context(browser)
    try:
        board = enrol(console, web.url, web.person_code(operator_ref, [Role.OPERATOR]), lang="en")
        token = board.evaluate("localStorage.getItem('konenut.token')")
        poster = post(web.api(token), "/api/v1/site/guest-posters", {"building_ref": "W3"})
        anyone = httpx.Client(base_url=web.url, timeout=10.0)
        for people in (7, 11):
            post(
                anyone,
                "/api/v1/passes/redeem-guest",
                {"code": poster["code"], "people_count": people},
            )
        words = catalogue("en")
        row = board.locator(f"#guest-list [data-poster='{poster['pass_id']}']")
        counts = words["guest.poster_count"].replace("{devices}", ISOLATE.format("2"))
        counts = counts.replace("{people}", ISOLATE.format("18"))
        expect(row).to_contain_text(counts, timeout=APPEARS_WITHIN_MS)
        board.screenshot(path=artifacts / "guest-poster-operator.png", full_page=True)
        row.get_by_role("button", name=words["guest.void"]).click()
        expect(row).to_have_count(0, timeout=APPEARS_WITHIN_MS)
        # The server took it: the voiding comes back on the stream, onto the timeline.
        expect(board.locator("#timeline")).to_contain_text(
            words["event.guests.voided"], timeout=APPEARS_WITHIN_MS
        )
        (event,) = [
            e
            for e in web.events_after(0, "guests.voided")
            if e.payload["pass_id"] == poster["pass_id"]
        ]
        assert len(event.payload["guest_ids"]) == 2
        board.reload()
        wait_ready(board)
        expect(board.locator("#timeline")).to_contain_text(words["event.guests.voided"])
        expect(board.locator(f"#guest-list [data-poster='{poster['pass_id']}']")).to_have_count(0)
    finally:
        console.close()


def test_the_print_page_lays_out_a_card_per_household(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    token = admin_token(web)
    context = desktop_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{web.url}/he/cards?households=all")  # nobody signed in yet
        english_or_hebrew = catalogue("he")
        expect(page.locator("#status")).to_have_text(
            english_or_hebrew["card.need_admin"], timeout=PAGE_READY_MS
        )
        page.evaluate(f"localStorage.setItem('konenut.token', {token!r})")
        refs = ["h-1", "h-4", "h-W1", "h-W2"]
        wanted = [web.household(ref) for ref in refs if _has_household(web, ref)]
        assert len(wanted) >= 2
        query = ",".join(h.ref for h in wanted)
        page.goto(f"{web.url}/he/cards?households={query}")
        expect(page.locator(".card")).to_have_count(len(wanted), timeout=PAGE_READY_MS)
        for index, household in enumerate(wanted):
            card = page.locator(".card").nth(index)
            expect(card.locator(".name")).to_have_text(household.name)
            expect(card.locator(".code")).to_contain_text("-")
            loaded = card.locator("img.qr").evaluate("img => img.complete && img.naturalWidth")
            assert loaded > 100
        page.emulate_media(media="print")
        page.screenshot(path=artifacts / "household-cards.png", full_page=True)
    finally:
        context.close()


def _has_household(web: WebSite, ref: str) -> bool:
    return web.state.household_by_ref(ref) is not None
