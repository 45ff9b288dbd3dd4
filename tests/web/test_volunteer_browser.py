"""A volunteer who was not on the roster, in a real Chromium: opens the join link in a fresh
browser, fills the short form, waits for the commander, lands on the responder view of that
incident with its picture, and loses access when the incident closes (issue 4 item 8)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from konenut.domain.roles import Role
from konenut.i18n import LANGUAGES, catalogue, direction

from .conftest import (
    APPEARS_WITHIN_MS,
    PAGE_READY_MS,
    WebSite,
    phone_context,
    post,
    wait_ready,
)

pytestmark = pytest.mark.browser

POLL_AND_APPEAR_MS = 3_000 + APPEARS_WITHIN_MS  # the page asks every 3 s
JOIN_PAGE_BUDGET_BYTES = 40 * 1024
SIGHTING = {"location": {"lat": 30.4301, "lon": 34.9702}, "category": "hostile", "count": 2}


def test_a_volunteer_joins_by_link_is_approved_and_sees_the_squad_picture(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    commander = web.squad_api(Role.COMMANDER)
    # A drill of its own: closing it must not end the session's real incident.
    title = "Night drill: strangers at the gate"
    drill = post(commander, "/api/v1/incidents", {"title": title, "drill": True})["incident_id"]
    inc = f"/api/v1/incidents/{drill}"
    post(commander, f"{inc}/muster", {"rally_point_ref": "R1"})
    post(commander, f"{inc}/sightings", SIGHTING)
    issued = post(commander, f"{inc}/volunteer-pass", {"language": "en"})
    bare = issued["code"].replace("-", "")
    assert issued["link"].endswith(f"/en/p#{bare}")

    context = phone_context(browser)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{web.url}/en/p#{bare}")
        expect(page.locator("#join")).to_be_visible(timeout=PAGE_READY_MS)
        expect(page.locator("#code-box")).to_be_hidden()  # the code came in the link
        page.fill("#name", "Avi Peretz")
        page.fill("#phone", "050-123 4567")
        page.click("#affiliation [data-value=police]")
        page.click("#armed [data-value=true]")
        page.screenshot(path=artifacts / "volunteer-join-form.png", full_page=True)
        page.click("#submit")
        english = catalogue("en")
        expect(page.locator("#status")).to_have_text(
            english["join.waiting"], timeout=APPEARS_WITHIN_MS
        )
        expect(page.locator("#join")).to_be_hidden()
        assert bare not in page.url, "the spent code stays out of the history"

        [waiting] = commander.get(f"{inc}/volunteers").json()
        assert (waiting["name"], waiting["phone"], waiting["status"]) == (
            "Avi Peretz",
            "+972501234567",
            "pending",
        )
        assert (waiting["affiliation"], waiting["armed"]) == ("police", True)
        post(commander, f"{inc}/volunteers/{waiting['volunteer_id']}/approve", {})

        # No reload by the volunteer: the page notices and opens the responder view.
        page.wait_for_url(re.compile(r"/en/responder$"), timeout=POLL_AND_APPEAR_MS)
        wait_ready(page)
        expect(page.locator("#incident-title")).to_have_text(title)
        expect(page.locator("#drill")).to_be_visible()
        expect(page.locator("#muster")).to_be_visible()
        expect(page.locator("#threats li")).to_have_count(1)
        expect(page.locator("#threats li")).to_contain_text(english["sighting.hostile"])
        page.screenshot(path=artifacts / "volunteer-responder.png", full_page=True)
        token = page.evaluate("localStorage.getItem('konenut.token')")
        volunteer = web.api(token)
        # The enrolled page (another tab of the same phone) names the volunteer, not an id.
        enrolled = context.new_page()
        enrolled.goto(f"{web.url}/en/enroll")
        expect(enrolled.locator("#who-name")).to_have_text("Avi Peretz", timeout=PAGE_READY_MS)
        expect(enrolled.locator("#who-role")).to_have_text(english["role.volunteer"])
        enrolled.close()
        row = next(
            r
            for r in commander.get(f"{inc}/muster").json()["people"]
            if r["person_id"] == waiting["volunteer_id"]
        )
        assert row["volunteer"] is True and row["armed"] is True

        # The incident ends: the same token is refused, and the page says so.
        assert volunteer.get(inc).status_code == 200
        post(commander, f"{inc}/close", {"summary": "drill over"})
        refused = volunteer.get(inc)
        assert refused.status_code == 401, refused.text
        assert volunteer.get("/api/v1/volunteers/me").status_code == 401
        expect(page.locator(".notice")).to_be_visible(timeout=APPEARS_WITHIN_MS)
        assert errors == []
    finally:
        context.close()


def test_a_declined_volunteer_is_told_so(web: WebSite, browser: Any) -> None:
    commander = web.squad_api(Role.COMMANDER)
    drill = post(commander, "/api/v1/incidents", {"title": "Gate drill", "drill": True})
    inc = f"/api/v1/incidents/{drill['incident_id']}"
    code = post(commander, f"{inc}/volunteer-pass", {"language": "he"})["code"]
    context = phone_context(browser)
    try:
        page = context.new_page()
        # A code read out loud is typed in, in any case and with spaces.
        page.goto(f"{web.url}/he/p")
        expect(page.locator("#code-box")).to_be_visible(timeout=PAGE_READY_MS)
        assert page.evaluate("document.documentElement.dir") == "rtl"
        page.fill("#code", code.lower().replace("-", " "))
        page.fill("#name", "דנה")
        page.click("#affiliation [data-value=civilian]")
        page.click("#submit")
        hebrew = catalogue("he")
        expect(page.locator("#status")).to_have_text(hebrew["join.need_armed"])
        page.click("#armed [data-value=false]")
        # A number the server cannot read with the site's country code: said at the field.
        page.fill("#phone", "12345")
        page.click("#submit")
        expect(page.locator("#status")).to_have_text(
            hebrew["join.bad_phone"], timeout=APPEARS_WITHIN_MS
        )
        expect(page.locator("#phone")).to_be_focused()
        page.fill("#phone", "")
        page.click("#submit")
        expect(page.locator("#status")).to_have_text(
            hebrew["join.waiting"], timeout=APPEARS_WITHIN_MS
        )
        [waiting] = commander.get(f"{inc}/volunteers").json()
        assert waiting["phone"] is None and waiting["armed"] is False
        post(commander, f"{inc}/volunteers/{waiting['volunteer_id']}/decline", {})
        expect(page.locator("#status")).to_have_text(
            hebrew["join.declined"], timeout=POLL_AND_APPEAR_MS
        )
    finally:
        context.close()
        post(commander, f"{inc}/close", {})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_join_page_renders_in_every_language(web: WebSite, lang: str) -> None:
    response = httpx.get(f"{web.url}/{lang}/p")
    assert response.status_code == 200
    assert f'<html lang="{lang}" dir="{direction(lang)}">' in response.text
    assert "{{" not in response.text
    assert catalogue(lang)["join.title"] in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_the_join_page_is_light(web: WebSite, browser: Any) -> None:
    """A stranger's phone on a bad network: everything the page transfers, compressed."""
    context = phone_context(browser, service_workers="block")
    try:
        page = context.new_page()
        sizes: dict[str, int] = {}
        cdp = context.new_cdp_session(page)
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(f"{web.url}/ar/p#ABCDEFGHJKLMNPQR")
        expect(page.locator("#join")).to_be_visible(timeout=PAGE_READY_MS)
        page.wait_for_load_state("networkidle")
        total = sum(sizes.values())
        assert 0 < total <= JOIN_PAGE_BUDGET_BYTES, f"{total} bytes"
    finally:
        context.close()
