"""The resident's silent check-in and "armed people outside", seen on the operator's console."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.demo import load_residents
from konenut.domain.roles import Role, SubjectKind
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    phone_context,
    squad_member,
)

pytestmark = pytest.mark.browser
SEND_WITHIN_MS = 20_000


def thai_household(index: int) -> str:
    """A Thai-speaking demo household other tests leave alone."""
    households: list[dict[str, Any]] = load_residents()["households"]
    return [h["ref"] for h in households if h["languages"][0] == "th"][index]


def test_a_thai_residents_reports_reach_the_operator_live(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    th = catalogue("th")
    ref = thai_household(2)
    household = web.household(ref)
    operator_context, phone = desktop_context(browser), phone_context(browser)
    try:
        operator = enrol(
            operator_context,
            web.url,
            web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR]),
            "en",
        )
        words = catalogue(operator.evaluate("document.documentElement.lang"))
        silent = operator.locator(f"#acc-silent li[data-household='{household.household_id}']")
        expect(silent).to_be_visible(timeout=APPEARS_WITHIN_MS)
        resident = enrol(phone, web.url, web.household_code(ref), "th")
        assert resident.url.endswith("/th/resident"), "the resident link opens in Thai"
        expect(resident.locator("#report-h")).to_have_text(th["resident.report_title"])
        expect(resident.locator("#armed")).to_have_text(th["resident.armed"])
        # Safe: off the no-answer list on the operator's console, without a reload.
        resident.click("#statuses [data-status=safe]")
        expect(resident.locator("#last.sent")).to_be_visible(timeout=SEND_WITHIN_MS)
        expect(silent).to_have_count(0, timeout=APPEARS_WITHIN_MS)
        # Need a medic: at once, then how many and how bad; red on the operator's board.
        resident.click("#statuses [data-status=need_medic]")
        resident.click("#injured-more")
        resident.click("#severity [data-severity=critical]")
        danger = operator.locator(
            f"#household-list li.bad[data-household='{household.household_id}']"
        )
        expect(danger).to_contain_text(
            words["household.severity.critical"], timeout=APPEARS_WITHIN_MS
        )
        expect(danger).to_contain_text(words["household.injured"].replace("{n}", "\u20682\u2069"))
        # Armed people outside: the resident learns only that it was received...
        resident.click("#armed")
        resident.click("#armed-count [data-count='2']")
        resident.click("#compass [data-deg='0']")
        resident.check("#armed-vehicle")
        resident.screenshot(path=artifacts / "resident-armed-th.png", full_page=True)
        resident.click("#armed-send")
        expect(resident.locator("#seen-last.sent")).to_have_text(
            th["resident.armed_received"], timeout=SEND_WITHIN_MS
        )
        # ...the operator sees it marked "from a resident", to confirm or dismiss.
        row = operator.locator("#resident-sightings li").filter(has_text="2–5")
        expect(row).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(row.locator(".from-resident")).to_have_text(words["sighting.from_resident"])
        operator.screenshot(path=artifacts / "operator-household-panels.png", full_page=True)
        sighting_id = row.get_attribute("data-sighting")
        sighting = web.state.incidents[web.incident_id].sightings[sighting_id]
        assert sighting.source == "resident" and sighting.direction_deg == 0 and sighting.vehicle
        assert sighting.location, "outside my house: placed at the household's building"
        row.get_by_role("button", name=words["sighting.action.confirmed"]).click()
        expect(row).to_have_count(0, timeout=APPEARS_WITHIN_MS)
        assert not resident.errors and not operator.errors
    finally:
        operator_context.close()
        phone.close()


def test_a_residents_device_reads_nothing_of_the_squad_or_other_households(web: WebSite) -> None:
    ref, other = thai_household(1), household_speaking("ne")
    token = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.household(ref).household_id, subject_kind=SubjectKind.HOUSEHOLD
        )
    )
    inc = f"/api/v1/incidents/{web.incident_id}"
    with web.api(token) as client:
        other_id = web.household(other).household_id
        assert client.get(f"/api/v1/site/households/{other_id}").status_code in (403, 404)
        for path in (
            "/api/v1/site/people",
            "/api/v1/site/households",
            f"{inc}/positions",
            f"{inc}/sightings",
            f"{inc}/hostage-situations",
            f"{inc}/households",
        ):
            assert client.get(path).status_code == 403, path
        answer = client.post(
            f"{inc}/households/{other_id}/check-ins",
            json={"status": "safe"},
            headers={"Idempotency-Key": "resident-other-house"},
        )
        assert answer.status_code == 403


def test_someone_in_the_house_becomes_a_hostage_situation_the_household_never_sees(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    ref = thai_household(1)
    household = web.household(ref)
    frames: list[str] = []
    operator_context, phone = desktop_context(browser), phone_context(browser)
    try:
        page = phone.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(str(p))))
        resident = enrol(phone, web.url, web.household_code(ref), "th", page=page)
        operator = enrol(
            operator_context,
            web.url,
            web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR]),
            "en",
        )
        resident.click("#statuses [data-status=intruder]")
        expect(resident.locator("#last.sent")).to_be_visible(timeout=SEND_WITHIN_MS)
        # One tap on the operator's console: the house goes on the hostage board.
        raise_row = operator.locator(
            f"#hostage-raise li[data-household='{household.household_id}']"
        )
        expect(raise_row).to_be_visible(timeout=APPEARS_WITHIN_MS)
        raise_row.locator("button.danger").click()  # the other one: "checked: no threat"
        situation = operator.locator("#hostage-list li.bad").filter(has_text=household.name)
        expect(situation).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(raise_row).to_have_count(0)
        # For the screenshot only: the board re-renders on every event, so the row may be
        # replaced while scrolling; the screenshot is taken wherever the page is.
        with contextlib.suppress(PlaywrightError):
            situation.scroll_into_view_if_needed(timeout=2000)
        operator.screenshot(path=artifacts / "operator-hostages.png")
        # The household's own check-in after it: the phone has had every frame before it.
        safe = catalogue("th")["resident.button.safe"]
        resident.click("#statuses [data-status=safe]")
        expect(resident.locator("#last.sent")).to_contain_text(safe, timeout=SEND_WITHIN_MS)
        for _ in range(50):  # the stream's copy of it arrives within 5 s
            if any('"safe"' in f and "household.checked_in" in f for f in frames):
                break
            resident.wait_for_timeout(100)
        wire = "\n".join(frames)
        assert "household.checked_in" in wire, "the stream was read"
        assert "hostage" not in wire, "a hostage situation reached the household's phone"
        assert not resident.errors and not operator.errors
    finally:
        operator_context.close()
        phone.close()
