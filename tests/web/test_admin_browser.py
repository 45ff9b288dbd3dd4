"""The admin's and the war room's forms in a real browser: the household editor (a member's
phone and special needs saved, a bad phone shown at its field with nothing stored) and the
hostage board's dialog (a situation and its timestamped updates, newest first)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from konenut.demo import load_residents
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import APPEARS_WITHIN_MS, WebSite, desktop_context, enrol, squad_member, wait_ready

EN = catalogue("en")
HOUSE = "h-41"  # a demo household no other browser test edits


def admin_page(web: WebSite, browser: Any, lang: str) -> tuple[Any, Any]:
    context = desktop_context(browser)
    code = web.person_code(load_residents()["admins"][0]["person_ref"], [Role.ADMIN])
    page = enrol(context, web.url, code, lang)
    page.goto(f"{web.url}/{lang}/registry")
    expect(page.locator("#reg-households li").first).to_be_visible()
    return context, page


def open_household(page: Any, ref: str) -> None:
    page.fill("#reg-search", ref)
    page.locator(f"#reg-households [data-ref='{ref}']").click()
    expect(page.locator("#reg-form")).to_be_visible()


def test_an_admin_edits_a_members_phone_and_needs(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    household = web.household(HOUSE)
    member = next(p for p in web.state.persons.values() if p.household_id == household.household_id)
    context, page = admin_page(web, browser, "en")
    try:
        open_household(page, HOUSE)
        row = page.locator(f"#reg-members li[data-person='{member.person_id}']")
        before = web.head()

        # A phone that is not one: the error at the field, nothing stored.
        row.locator("[data-field=phone]").fill("12ab")
        page.click("#reg-save")
        expect(row.locator(".field-error[data-for=phone]")).to_contain_text("phone")
        expect(page.locator("#reg-status")).to_contain_text(EN["registry.fix_errors"])
        assert web.events_after(before) == []

        row.locator("[data-field=phone]").fill("052-987 6543")
        row.locator(".reg-needs input[value=mobility]").check()
        row.locator(".reg-needs input[value=hearing]").check()
        page.click("#reg-save")
        expect(page.locator("#reg-status")).to_have_text(
            EN["registry.saved"].replace("{n}", "\u20681\u2069")
        )
        expect(row.locator(".field-error[data-for=phone]")).to_be_hidden()
        events = web.events_after(before)
        assert [e.type for e in events] == ["person.updated"]
        person = web.state.persons[member.person_id]
        assert person.phone == "+972529876543"
        assert set(person.special_needs) >= {"mobility", "hearing"}
        page.screenshot(path=str(artifacts / "registry-en.png"))
        assert page.errors == []
    finally:
        context.close()


def test_the_registry_in_hebrew_is_right_to_left(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    context, page = admin_page(web, browser, "he")
    try:
        assert page.get_attribute("html", "dir") == "rtl"
        open_household(page, "h-W1")
        expect(page.locator("#reg-form")).to_contain_text(catalogue("he")["registry.members"])
        page.screenshot(path=str(artifacts / "registry-he.png"))
        assert page.errors == []
    finally:
        context.close()


def test_the_hostage_dialog_adds_timestamped_updates(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    household = web.household("h-62")
    context = desktop_context(browser)
    try:
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        page = enrol(context, web.url, code, "en")
        wait_ready(page)
        words = catalogue(page.evaluate("document.documentElement.lang"))
        page.click("#hostage-new")
        dialog = page.locator("#dlg-hostage")
        expect(dialog).to_be_visible()
        dialog.locator("#hostage-household").select_option(household.household_id)
        dialog.locator("#hostage-people").fill("2")
        dialog.locator("#hostage-attackers").fill("1")
        dialog.locator("#hostage-contact").fill("WhatsApp +972501112233")
        dialog.locator("#hostage-text").fill("Couple in the safe room")
        dialog.locator("#hostage-save").click()
        situation = page.locator("#hostage-list li.hostage", has_text=household.name)
        expect(situation).to_contain_text("WhatsApp", timeout=APPEARS_WITHIN_MS)

        situation.get_by_role("button", name=words["hostage.update"]).click()
        expect(dialog.locator("#hostage-people")).to_have_value("2")
        dialog.locator("#hostage-attackers").fill("2")
        dialog.locator("#hostage-text").fill("Second attacker seen at the window")
        dialog.locator("#hostage-save").click()
        first = situation.locator("ol.updates li").first
        expect(first).to_contain_text("Second attacker seen", timeout=APPEARS_WITHIN_MS)
        expect(first.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        situations = [
            s
            for s in web.state.incidents[web.incident_id].hostages.values()
            if s.household_id == household.household_id
        ]
        assert [(s.people_inside, s.attackers_inside) for s in situations] == [(2, 2)]
        situation.get_by_role("button", name=words["hostage.update"]).click()
        page.screenshot(path=str(artifacts / "hostage-dialog.png"))
        dialog.get_by_role("button", name=words["common.cancel"]).click()
        page.screenshot(path=str(artifacts / "hostage-board.png"))
        assert page.errors == []
    finally:
        context.close()
