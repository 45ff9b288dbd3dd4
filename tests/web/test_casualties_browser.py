"""A resident's "need a medic" reaches the medic's list live, the commander sends the medic,
and the household learns that a medic is coming (issue 14, Tests; one context per person)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    post,
    squad_member,
)

pytestmark = pytest.mark.browser
HOUSE = "h-9"  # a demo household in a building no other browser test uses


def _hand_over_open_casualties(web: WebSite) -> None:
    """Casualties other tests opened are handed over first, so the new one is the only open one."""
    commander = web.squad_api(Role.COMMANDER)
    incident = web.state.incidents[web.incident_id]
    for casualty in list(incident.casualties.values()):
        if casualty.state in ("reported", "assigned", "treating"):
            path = f"/api/v1/incidents/{web.incident_id}/casualties/{casualty.casualty_id}/state"
            post(commander, path, {"state": "handed_over"})


def test_need_a_medic_reaches_the_medic_and_the_household_hears_one_is_coming(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    en = catalogue("en")
    _hand_over_open_casualties(web)
    household = web.household(HOUSE)
    medic_ref = squad_member("medic")["person_ref"]
    medic_id = web.person_id(medic_ref)
    medic_context, commander_context, home_context = (
        phone_context(browser),
        desktop_context(browser),
        phone_context(browser),
    )
    try:
        medic = enrol(medic_context, web.url, web.person_code(medic_ref, [Role.MEDIC]))
        commander = enrol(
            commander_context,
            web.url,
            web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER]),
        )
        home = enrol(home_context, web.url, web.household_code(HOUSE))
        expect(medic.locator("#casualties")).to_be_visible()
        # The resident: "need a medic", then one person, seriously hurt.
        home.click("#statuses [data-status=need_medic]")
        home.click("#severity [data-severity=serious]")
        expect(home.locator("#medic-status")).to_have_text(
            en["resident.medic_asked"], timeout=APPEARS_WITHIN_MS
        )
        # The medic's list shows it at the top, without a reload.
        top = medic.locator("#casualty-list li.casualty").first
        place = en["casualty.house"].replace("{ref}", f"\u2068{household.building_ref}\u2069")
        expect(top).to_contain_text(place, timeout=APPEARS_WITHIN_MS)
        expect(top).to_contain_text(en["casualty.untriaged"])
        # The medic triages it: what they see, then the category, in one tap.
        top.locator(".cas-injuries").fill("bleeding, left thigh")
        top.get_by_role("button", name=en["casualty.category.immediate"]).click()
        expect(top.locator(".cas-cat")).to_have_text(
            en["casualty.category.immediate"], timeout=APPEARS_WITHIN_MS
        )
        expect(top).to_contain_text("bleeding, left thigh")
        # Carried to the clinic's collection point (the demo plan's C1).
        at_point = en["casualty.at_point"].replace("{ref}", "\u2068C1\u2069")
        top.locator(".cas-point").click()
        expect(top.locator(".cas-where")).to_contain_text(at_point, timeout=APPEARS_WITHIN_MS)
        medic.screenshot(path=artifacts / "casualty-medic-list.png", full_page=True)
        web.flush()
        [opened] = [
            c
            for c in web.state.incidents[web.incident_id].casualties.values()
            if c.household_id == household.household_id and c.state == "reported"
        ]
        # On the maps, by its tag.
        for page in (medic, commander):
            expect(page.locator(".mk-casualty", has_text=opened.tag)).to_have_count(1)
        # The commander sends the medic from the console.
        row = commander.locator(f"#casualty-list li[data-casualty='{opened.casualty_id}']")
        expect(row).to_be_visible(timeout=APPEARS_WITHIN_MS)
        row.locator("select").select_option(medic_id)
        row.locator(".cas-assign button").click()
        # The household hears that a medic is coming.
        expect(home.locator("#medic-status")).to_have_text(
            en["resident.medic_coming"], timeout=APPEARS_WITHIN_MS
        )
        home.screenshot(path=artifacts / "casualty-medic-coming.png", full_page=True)
        expect(top).to_contain_text(en["casualty.state.assigned"], timeout=APPEARS_WITHIN_MS)
        medic_name = web.state.persons[medic_id].name
        expect(top).to_contain_text(
            en["casualty.medic"].replace("{name}", f"\u2068{medic_name}\u2069")
        )
        for page in (medic, commander, home):
            assert page.errors == [], page.errors
    finally:
        for context in (medic_context, commander_context, home_context):
            context.close()


def test_a_responder_reports_a_casualty_here_in_one_tap(web: WebSite, browser: Any) -> None:
    """The squad's one-tap report, at the phone's position: on the console's list and map."""
    en = catalogue("en")
    _hand_over_open_casualties(web)
    responder_context, commander_context = phone_context(browser), desktop_context(browser)
    try:
        responder = enrol(
            responder_context,
            web.url,
            web.person_code(squad_member("responder")["person_ref"], [Role.RESPONDER]),
        )
        commander = enrol(
            commander_context,
            web.url,
            web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER]),
        )
        expect(responder.locator("#casualty-list li.casualty")).to_have_count(0)
        responder.get_by_role("button", name=en["casualty.report_here"]).click()
        row = commander.locator("#casualty-list li.casualty:not(.done)")
        expect(row).to_have_count(1, timeout=APPEARS_WITHIN_MS)
        expect(row).to_contain_text(en["casualty.untriaged"])
        expect(responder.locator(".mk-casualty")).to_have_count(1, timeout=APPEARS_WITHIN_MS)
        for page in (responder, commander):
            assert page.errors == [], page.errors
    finally:
        for context in (responder_context, commander_context):
            context.close()
