"""A caution raised while a responder's page was closed is on the page when it opens; once
dismissed it stays dismissed on that phone, across reloads. And the "entering house" box."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import APPEARS_WITHIN_MS, WebSite, enrol, wait_ready
from .test_caution_browser import ISOLATES, device_of, phone_at, responder_refs, wait_for

pytestmark = pytest.mark.browser

HOUSE = "30"


def near_house(south_m: float) -> dict[str, float]:
    from konenut.demo import load_site_plan
    from konenut.domain.site_plan import FeatureKind, feature_point, find_feature

    feature = find_feature(load_site_plan(), [FeatureKind.BUILDING], HOUSE)
    assert feature is not None
    lon, lat = feature_point(feature["geometry"])
    return {"latitude": lat - south_m / 111_195, "longitude": lon}


def speaking(lang: str) -> str:
    """A demo responder (only that) whose first language is `lang`."""
    from konenut.demo import load_residents

    squad: list[dict[str, Any]] = load_residents()["responders"]
    return next(
        r["person_ref"] for r in squad if r["roles"] == ["responder"] and r["languages"][0] == lang
    )


def post(api: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def quiet_village(api: Any, incident: str) -> None:
    """Dismiss the live sightings earlier tests on this shared server left: a unit opening its
    page near one would rightly be warned at once."""
    for sighting in api.get(f"{incident}/sightings").json():
        if sighting["status"] in ("reported", "confirmed", "moved"):
            update = {"status": "dismissed", "note": "earlier test"}
            post(api, f"{incident}/sightings/{sighting['sighting_id']}", update)


def banner_text(page: Any) -> str:
    return (page.locator("#caution").text_content() or "").translate(ISOLATES)


def test_a_caution_raised_while_the_page_was_closed_shows_when_it_opens(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    incident = f"/api/v1/incidents/{web.incident_id}"
    household = web.household(f"h-{HOUSE}")
    b_ref, c_ref = speaking("en"), responder_refs()[6]  # C speaks Hebrew
    phone_b = phone_at(browser, near_house(60))
    phone_c = phone_at(browser, near_house(70))
    try:
        with web.squad_api(Role.COMMANDER) as api:
            quiet_village(api, incident)
            path = f"{incident}/households/{household.household_id}/check-ins"
            post(api, path, {"status": "safe", "people_count": 3})
            # B (English) and C (Hebrew) open their pages near house 30, share a position and
            # close them.
            pages = {}
            for context, ref, lang in ((phone_b, b_ref, "en"), (phone_c, c_ref, "he")):
                head = web.head()
                page = enrol(context, web.url, web.person_code(ref, [Role.RESPONDER]), lang)
                wait_for(web, head, "position.reported", device_of(web, page))
                expect(page.locator("#caution")).to_be_hidden()
                pages[lang] = page.url
                page.close()
            head = web.head()
            where = near_house(40)
            sighting = post(
                api,
                f"{incident}/sightings",
                {
                    "location": {"lat": where["latitude"], "lon": where["longitude"]},
                    "category": "hostile",
                    "count": 2,
                },
            )
        [caution] = [
            e
            for e in web.events_after(head, "caution.raised")
            if e.payload["sighting_id"] == sighting["sighting_id"]
        ]
        assert web.person_id(b_ref) in caution.payload["to_person_ids"]
        assert web.person_id(c_ref) in caution.payload["to_person_ids"]

        # B opens the page: the caution that still stands is there, in B's language.
        b = phone_b.new_page()
        b.errors = []
        b.on("pageerror", lambda error: b.errors.append(str(error)))
        b.goto(pages["en"])
        wait_ready(b)
        expect(b.locator("#caution")).to_be_visible(timeout=APPEARS_WITHIN_MS)
        words = catalogue(b.evaluate("document.documentElement.lang"))
        place = words["caution.house"].format(ref=HOUSE)
        expect(
            b.locator(f"#caution li[data-caution='{caution.payload['caution_id']}']")
        ).to_be_visible()
        assert words["caution.civilians"].format(place=place, n=3) in banner_text(b)
        assert words["caution.threat"].format(what=words["sighting.hostile"], n=2) in banner_text(b)

        # The "entering" box: labelled, suggests the plan's houses, Enter asks who is inside.
        box = b.locator("#entering-house")
        assert box.get_attribute("placeholder") == words["caution.house_number"]
        assert b.locator(f"#entering-refs option[value='{HOUSE}']").count() == 1
        box.fill(HOUSE)
        box.press("Enter")
        inside = b.locator("#entering-answer")
        expect(inside).to_have_class(re.compile(r"\boccupied\b"), timeout=APPEARS_WITHIN_MS)
        assert words["caution.people"].format(n=3) in (inside.text_content() or "").translate(
            ISOLATES
        )
        b.screenshot(path=artifacts / "standing-caution-en.png", full_page=True)

        # C, in Hebrew, sees it too.
        hebrew = phone_c.new_page()
        hebrew.goto(pages["he"])
        wait_ready(hebrew)
        expect(hebrew.locator("#caution")).to_be_visible(timeout=APPEARS_WITHIN_MS)
        hebrew.screenshot(path=artifacts / "standing-caution-he.png", full_page=True)

        # B dismisses it; a reload does not bring it back.
        b.click("#caution-dismiss")
        expect(b.locator("#caution")).to_be_hidden()
        b.reload()
        wait_ready(b)
        # The page has asked for the standing cautions, and shows none.
        b.wait_for_selector("#caution[data-standing=loaded]", state="attached")
        expect(b.locator("#caution")).to_be_hidden()
        assert b.errors == []
    finally:
        phone_b.close()
        phone_c.close()
